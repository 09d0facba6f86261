using Google.Protobuf;

namespace Kvorum.Etcd.Keys;

/// <summary>
/// A set of keys named the etcd way by a key and a range end: no range end means the key alone;
/// a range end of one zero byte means every key from the key on; otherwise the half-open
/// interval [key, range end), empty when the end does not sort after the key.
/// </summary>
internal readonly struct KeyRange
{
    private KeyRange(ByteString begin, ByteString? end, bool unbounded)
    {
        Begin = begin;
        End = end;
        IsUnbounded = unbounded;
    }

    /// <summary>The first key of the range.</summary>
    public ByteString Begin { get; }

    /// <summary>The exclusive end; null for a single key or an unbounded range.</summary>
    public ByteString? End { get; }

    /// <summary>True when the range holds just <see cref="Begin"/>.</summary>
    public bool IsSingleKey => End is null && !IsUnbounded;

    /// <summary>True when the range runs past every key.</summary>
    public bool IsUnbounded { get; }

    /// <summary>Reads an etcd key and range_end pair.</summary>
    /// <param name="key">The request's key.</param>
    /// <param name="rangeEnd">The request's range_end; empty for a single key.</param>
    /// <returns>The range they name.</returns>
    public static KeyRange FromRequest(ByteString key, ByteString rangeEnd)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(rangeEnd);
        if (rangeEnd.Length == 0)
            return new KeyRange(key, null, unbounded: false);
        if (rangeEnd.Length == 1 && rangeEnd.Span[0] == 0)
            return new KeyRange(key, null, unbounded: true);
        return new KeyRange(key, rangeEnd, unbounded: false);
    }

    /// <summary>The range holding only <paramref name="key"/>.</summary>
    /// <returns>A single-key range.</returns>
    public static KeyRange ForKey(ByteString key) => new(key, null, unbounded: false);

    /// <summary>The range end that selects every key starting with <paramref name="prefix"/>,
    /// as etcd clients compute it: the prefix with its last byte below 0xff incremented and
    /// the bytes after it dropped; "\0" (every key) when the prefix is all 0xff or empty.</summary>
    /// <returns>The range end to send with the prefix as key.</returns>
    public static ByteString PrefixEnd(ByteString prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var bytes = prefix.Span;
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            if (bytes[i] == 0xff)
                continue;
            var end = bytes[..(i + 1)].ToArray();
            end[i]++;
            return ByteString.CopyFrom(end);
        }
        return ByteString.CopyFrom(0);
    }

    /// <summary>True when <paramref name="key"/> lies in the range.</summary>
    /// <param name="key">The key to test.</param>
    /// <returns>Whether the range contains the key.</returns>
    public bool Contains(ReadOnlySpan<byte> key)
    {
        var fromBegin = ByteKeyComparer.Compare(key, Begin.Span);
        if (IsSingleKey)
            return fromBegin == 0;
        if (fromBegin < 0)
            return false;
        return IsUnbounded || ByteKeyComparer.Compare(key, End!.Span) < 0;
    }

    /// <summary>True when a key that sorts at or after <see cref="Begin"/> is still inside the range.</summary>
    /// <param name="key">A key not before <see cref="Begin"/>.</param>
    /// <returns>Whether the scan should go on.</returns>
    public bool IsBeforeEnd(ReadOnlySpan<byte> key)
    {
        if (IsUnbounded)
            return true;
        if (IsSingleKey)
            return ByteKeyComparer.Compare(key, Begin.Span) == 0;
        return ByteKeyComparer.Compare(key, End!.Span) < 0;
    }
}
