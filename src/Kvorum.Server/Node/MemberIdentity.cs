using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Kvorum.Server.Node;

/// <summary>
/// Member and cluster ids, derived as etcd derives them: a hash of the member's sorted peer URLs and the
/// cluster token, so every member computes the same ids without talking.
/// </summary>
internal static class MemberIdentity
{
    /// <summary>The id of a member with these peer URLs in the cluster named by <paramref name="token"/>.</summary>
    public static ulong MemberId(IEnumerable<Uri> peerUrls, string token)
    {
        ArgumentNullException.ThrowIfNull(peerUrls);
        var text = string.Join("", peerUrls.Select(u => u.ToString().TrimEnd('/')).Order(StringComparer.Ordinal)) + token;
        return Hash(text);
    }

    /// <summary>The cluster id: a hash of the initial members' ids and the token.</summary>
    public static ulong ClusterId(IEnumerable<ulong> memberIds, string token)
    {
        ArgumentNullException.ThrowIfNull(memberIds);
        return Hash(string.Join(",", memberIds.Order()) + "/" + token);
    }

    private static ulong Hash(string text)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), digest);
        var id = BinaryPrimitives.ReadUInt64BigEndian(digest);
        return id == 0 ? 1 : id;
    }
}
