using Google.Protobuf;
using Kvorum.Etcd.Api;

namespace Kvorum.Server.Auth;

/// <summary>
/// The keys a user may read, or write: the union of its roles' permissions of that kind, each a key (a point), a range
/// <c>[key, range_end)</c>, or everything from a key on (<c>range_end</c> of one zero byte). A request on one key needs
/// a permission that holds it; a request on a range needs the range covered whole by the union, gaps refused.
/// </summary>
/// <remarks>
/// Bounds compare as etcd's do: bytes in order, except that an empty bound is past every key. So a permission whose key
/// is empty holds nothing, and a range request with the one-zero-byte end reaches to the end of the key space.
/// </remarks>
internal sealed class KeyPermissions
{
    private readonly List<(byte[] Begin, byte[] End)> _intervals;

    private KeyPermissions(List<(byte[] Begin, byte[] End)> intervals)
    {
        intervals.Sort((a, b) => CompareBound(a.Begin, b.Begin));
        _intervals = intervals;
    }

    /// <summary>The permissions of <paramref name="roles"/> that allow reading (<paramref name="write"/> false) or writing.</summary>
    public static KeyPermissions Of(IEnumerable<Role> roles, bool write)
    {
        var intervals = new List<(byte[], byte[])>();
        foreach (var role in roles)
        {
            foreach (var p in role.KeyPermission)
            {
                var allows = p.PermType == Permission.Types.Type.Readwrite
                    || (write ? p.PermType == Permission.Types.Type.Write : p.PermType == Permission.Types.Type.Read);
                if (allows)
                    intervals.Add(p.RangeEnd.IsEmpty ? Point(p.Key.ToByteArray()) : (p.Key.ToByteArray(), End(p.RangeEnd)));
            }
        }
        return new KeyPermissions(intervals);
    }

    /// <summary>True when the permissions allow the request on <paramref name="key"/> (and up to <paramref name="rangeEnd"/>).</summary>
    public bool Allows(ByteString key, ByteString rangeEnd)
    {
        if (rangeEnd.IsEmpty)
        {
            var (begin, end) = Point(key.ToByteArray());
            return _intervals.Any(i => Intersects(i, begin, end));
        }
        return Covers(key.ToByteArray(), End(rangeEnd));
    }

    /// <summary>Whether the union of the intervals that meet <c>[begin, end)</c> is one piece that holds it all.</summary>
    private bool Covers(byte[] begin, byte[] end)
    {
        byte[]? minBegin = null;
        byte[]? maxEnd = null;
        foreach (var i in _intervals)
        {
            if (!Intersects(i, begin, end))
                continue;
            if (minBegin is null)
            {
                (minBegin, maxEnd) = i;
                continue;
            }
            if (CompareBound(maxEnd!, i.Begin) < 0)
                return false; // a gap
            if (CompareBound(i.End, maxEnd!) > 0)
                maxEnd = i.End;
        }
        return minBegin is not null && CompareBound(maxEnd!, end) >= 0 && CompareBound(minBegin, begin) <= 0;
    }

    private static bool Intersects((byte[] Begin, byte[] End) i, byte[] begin, byte[] end) =>
        CompareBound(i.Begin, end) < 0 && CompareBound(i.End, begin) > 0;

    /// <summary>One key as an interval: from it to the next key there can be (it with a zero byte after).</summary>
    private static (byte[], byte[]) Point(byte[] key) => (key, [.. key, 0]);

    /// <summary>A range end; the one-zero-byte end ("from the key on") becomes the empty bound, past every key.</summary>
    private static byte[] End(ByteString rangeEnd) => rangeEnd is { Length: 1 } && rangeEnd[0] == 0 ? [] : rangeEnd.ToByteArray();

    /// <summary>Byte order, with an empty bound after every other (two empty bounds are equal).</summary>
    private static int CompareBound(byte[] a, byte[] b) =>
        a.Length == 0 ? (b.Length == 0 ? 0 : 1) : b.Length == 0 ? -1 : a.AsSpan().SequenceCompareTo(b);
}
