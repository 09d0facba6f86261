using Google.Protobuf;

namespace Kvorum.Etcd.Keys;

/// <summary>
/// Orders keys as etcd does: byte by byte, unsigned, a prefix before any longer key.
/// </summary>
internal sealed class ByteKeyComparer : IComparer<ByteString>
{
    /// <summary>The one instance.</summary>
    public static ByteKeyComparer Instance { get; } = new();

    private ByteKeyComparer()
    {
    }

    /// <inheritdoc />
    public int Compare(ByteString? x, ByteString? y)
    {
        if (ReferenceEquals(x, y))
            return 0;
        if (x is null)
            return -1;
        if (y is null)
            return 1;
        return x.Span.SequenceCompareTo(y.Span);
    }

    /// <summary>Compares two keys held as spans.</summary>
    /// <param name="x">The first key.</param>
    /// <param name="y">The second key.</param>
    /// <returns>Negative, zero or positive as <paramref name="x"/> sorts before, with or after <paramref name="y"/>.</returns>
    public static int Compare(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y) => x.SequenceCompareTo(y);
}
