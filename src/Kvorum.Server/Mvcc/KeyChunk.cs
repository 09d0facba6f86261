using System.Buffers.Binary;
using System.Diagnostics;
using Kvorum.Etcd.Keys;

namespace Kvorum.Server.Mvcc;

/// <summary>
/// One sorted run of <see cref="KeyIndex"/>: the histories in key order, and beside them each key's first
/// 8 bytes as a big-endian number. Comparing those numbers orders two keys without leaving this chunk's
/// arrays, as long as the first 8 bytes differ; only keys that share them are compared byte by byte, which
/// touches the history, its key and the key's bytes, three objects scattered over the heap.
/// </summary>
/// <remarks>Invariant: <c>Prefixes[i] == PrefixOf(Histories[i].Key)</c> for every <c>i &lt; Count</c>, and the keys strictly increase.</remarks>
internal sealed class KeyChunk
{
    private KeyHistory[] _histories;
    private ulong[] _prefixes;

    public KeyChunk(int capacity)
    {
        _histories = new KeyHistory[capacity];
        _prefixes = new ulong[capacity];
    }

    /// <summary>Number of keys in the chunk.</summary>
    public int Count { get; private set; }

    /// <summary>The history at <paramref name="index"/>.</summary>
    public KeyHistory this[int index]
    {
        get
        {
            Debug.Assert((uint)index < (uint)Count);
            return _histories[index];
        }
    }

    /// <summary>
    /// A key's first 8 bytes as a big-endian number, zero-padded: for two keys whose numbers differ, the
    /// numbers order them as <see cref="ByteKeyComparer"/> does; equal numbers say nothing.
    /// </summary>
    public static ulong PrefixOf(ReadOnlySpan<byte> key)
    {
        if (key.Length >= 8)
            return BinaryPrimitives.ReadUInt64BigEndian(key);
        Span<byte> padded = stackalloc byte[8];
        padded.Clear();
        key.CopyTo(padded);
        return BinaryPrimitives.ReadUInt64BigEndian(padded);
    }

    /// <summary>Orders <paramref name="key"/> (with prefix <paramref name="prefix"/>) against the key at <paramref name="index"/>.</summary>
    public int CompareAt(int index, ulong prefix, ReadOnlySpan<byte> key)
    {
        var here = _prefixes[index];
        if (here != prefix)
            return here < prefix ? -1 : 1;
        return ByteKeyComparer.Compare(_histories[index].Key.Span, key);
    }

    /// <summary>Orders the last key of this chunk against <paramref name="key"/>.</summary>
    public int CompareLast(ulong prefix, ReadOnlySpan<byte> key) => CompareAt(Count - 1, prefix, key);

    /// <summary>Binary search: the position of <paramref name="key"/>, or of the first key after it, and whether it is here.</summary>
    public (int Index, bool Found) Search(ulong prefix, ReadOnlySpan<byte> key)
    {
        var left = 0;
        var right = Count - 1;
        while (left <= right)
        {
            var mid = left + ((right - left) >> 1);
            var order = CompareAt(mid, prefix, key);
            if (order == 0)
                return (mid, true);
            if (order < 0)
                left = mid + 1;
            else
                right = mid - 1;
        }
        return (left, false);
    }

    /// <summary>Inserts <paramref name="history"/> at <paramref name="index"/>, which keeps the keys increasing.</summary>
    public void Insert(int index, KeyHistory history, ulong prefix)
    {
        Debug.Assert((uint)index <= (uint)Count);
        if (Count == _histories.Length)
        {
            Array.Resize(ref _histories, _histories.Length * 2);
            Array.Resize(ref _prefixes, _prefixes.Length * 2);
        }
        Array.Copy(_histories, index, _histories, index + 1, Count - index);
        Array.Copy(_prefixes, index, _prefixes, index + 1, Count - index);
        _histories[index] = history;
        _prefixes[index] = prefix;
        Count++;
    }

    /// <summary>Removes the key at <paramref name="index"/>.</summary>
    public void RemoveAt(int index)
    {
        Debug.Assert((uint)index < (uint)Count);
        Count--;
        Array.Copy(_histories, index + 1, _histories, index, Count - index);
        Array.Copy(_prefixes, index + 1, _prefixes, index, Count - index);
        _histories[Count] = null!;
    }

    /// <summary>Moves the upper half of the keys into a new chunk, which is returned.</summary>
    public KeyChunk SplitUpperHalf()
    {
        var half = Count / 2;
        var moved = Count - half;
        var upper = new KeyChunk(_histories.Length);
        Array.Copy(_histories, half, upper._histories, 0, moved);
        Array.Copy(_prefixes, half, upper._prefixes, 0, moved);
        upper.Count = moved;
        Array.Clear(_histories, half, moved);
        Count = half;
        return upper;
    }
}
