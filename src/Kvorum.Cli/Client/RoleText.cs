using Google.Protobuf;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Client;

/// <summary>How etcdctl shows a role's permissions and ranges: <c>[a, z)</c>, <c>(prefix p)</c>, <c>&lt;open ended&gt;</c>.</summary>
internal static class RoleText
{
    /// <summary>etcdctl's <c>role get</c>: the role, then its keys and ranges readable, then writable.</summary>
    public static string Describe(string role, AuthRoleGetResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var text = new System.Text.StringBuilder();
        text.Append("Role ").Append(role).Append('\n');
        text.Append("KV Read:\n");
        foreach (var p in response.Perm.Where(p => p.PermType is Permission.Types.Type.Read or Permission.Types.Type.Readwrite))
            text.Append('\t').Append(Range(p.Key, p.RangeEnd)).Append('\n');
        text.Append("KV Write:");
        foreach (var p in response.Perm.Where(p => p.PermType is Permission.Types.Type.Write or Permission.Types.Type.Readwrite))
            text.Append("\n\t").Append(Range(p.Key, p.RangeEnd));
        return text.ToString();
    }

    /// <summary>A key alone, <c>[key, end)</c>, <c>[key, end) (prefix key)</c>, or <c>[key, &lt;open ended&gt;</c>.</summary>
    public static string Range(ByteString key, ByteString end)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(end);
        var k = key.ToStringUtf8();
        if (end.IsEmpty)
            return k;
        if (end.Length == 1 && end[0] == 0)
            return $"[{k}, <open ended>";
        var text = $"[{k}, {end.ToStringUtf8()})";
        return !key.IsEmpty && KeyRanges.PrefixEnd(key).Equals(end) ? $"{text} (prefix {k})" : text;
    }
}
