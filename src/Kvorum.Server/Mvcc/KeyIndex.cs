using Google.Protobuf;
using Kvorum.Etcd.Keys;

namespace Kvorum.Server.Mvcc;

/// <summary>
/// The store's sorted map from key to <see cref="KeyHistory"/>, ordered by
/// <see cref="ByteKeyComparer"/>. Kept as a list of sorted chunks (<see cref="KeyChunk"/>) of at most
/// <see cref="MaxChunkSize"/> entries: a lookup is two binary searches, an insert or removal
/// moves at most one chunk's worth of references, and a range scan walks chunks in order. A hash table
/// beside the chunks answers point lookups (every put, single-key range and txn compare) without the
/// binary searches; the searches, for a new key or the start of a range, compare keys by their first
/// 8 bytes, held in the chunk, before they compare the bytes themselves.
/// </summary>
/// <remarks>Invariants: no chunk is empty; keys strictly increase across the chunks in order; the hash table
/// maps exactly the keys in the chunks to the same histories.</remarks>
internal sealed class KeyIndex
{
    /// <summary>A chunk that grows past this many entries is split in two.</summary>
    public const int MaxChunkSize = 512;

    private readonly List<KeyChunk> _chunks = [];
    private readonly Dictionary<ByteString, KeyHistory> _byKey = [];

    /// <summary>Number of keys in the index.</summary>
    public int Count { get; private set; }

    /// <summary>What one entry of a history is counted as, besides its key and value bytes: its revisions, version and lease.</summary>
    public const int EntryOverhead = 48;

    /// <summary>
    /// The size of the store as <c>--quota-backend-bytes</c> measures it: every entry of every history, each
    /// counted as its key, its value and <see cref="EntryOverhead"/>. It depends only on what was applied, so
    /// every member that applied the same entries counts the same.
    /// </summary>
    /// <remarks>Invariant: equals the sum of <see cref="SizeOf"/> over every entry of every history in the index.</remarks>
    public long Bytes { get; private set; }

    /// <summary>What <paramref name="version"/> of <paramref name="key"/> counts towards <see cref="Bytes"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="version">One entry of its history.</param>
    /// <returns>Its size in bytes.</returns>
    public static long SizeOf(ByteString key, in KeyVersion version)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key.Length + version.ValueLength + EntryOverhead;
    }

    /// <summary>Called by the histories of this index as entries come and go.</summary>
    internal void AddBytes(long delta)
    {
        Bytes += delta;
        System.Diagnostics.Debug.Assert(Bytes >= 0, "the size never goes below zero");
    }

    /// <summary>Finds the history of <paramref name="key"/>.</summary>
    /// <returns>The history, or null when the key is not indexed.</returns>
    public KeyHistory? Find(ByteString key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _byKey.GetValueOrDefault(key);
    }

    /// <summary>Finds the history of <paramref name="key"/>, adding an empty one if there is none.</summary>
    /// <returns>The key's history.</returns>
    public KeyHistory GetOrAdd(ByteString key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_byKey.TryGetValue(key, out var existing))
            return existing;
        var prefix = KeyChunk.PrefixOf(key.Span);
        (var chunk, var index, var found) = Locate(prefix, key.Span);
        System.Diagnostics.Debug.Assert(!found, "a key in the chunks is in the hash table");

        var history = new KeyHistory(key, this);
        _byKey.Add(key, history);
        if (_chunks.Count == 0)
        {
            var first = new KeyChunk(MaxChunkSize + 1);
            first.Insert(0, history, prefix);
            _chunks.Add(first);
        }
        else
        {
            var target = _chunks[chunk];
            target.Insert(index, history, prefix);
            if (target.Count > MaxChunkSize)
                _chunks.Insert(chunk + 1, target.SplitUpperHalf());
        }
        Count++;
        return history;
    }

    /// <summary>Removes <paramref name="key"/> from the index.</summary>
    /// <returns>True when the key was indexed.</returns>
    public bool Remove(ByteString key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!_byKey.Remove(key, out var removed))
            return false;
        AddBytes(-removed.CountedBytes()); // nothing, as the store removes only emptied histories
        (var chunk, var index, var found) = Locate(KeyChunk.PrefixOf(key.Span), key.Span);
        System.Diagnostics.Debug.Assert(found, "a key in the hash table is in the chunks");
        var target = _chunks[chunk];
        target.RemoveAt(index);
        if (target.Count == 0)
            _chunks.RemoveAt(chunk);
        Count--;
        return true;
    }

    /// <summary>The histories of the keys in <paramref name="range"/>, in key order.</summary>
    /// <param name="range">The keys to visit.</param>
    /// <returns>A lazy sequence; the index must not change while it is enumerated.</returns>
    public IEnumerable<KeyHistory> Scan(KeyRange range)
    {
        if (range.IsSingleKey)
        {
            var single = Find(range.Begin);
            if (single is not null)
                yield return single;
            yield break;
        }

        (var chunk, var index, _) = Locate(KeyChunk.PrefixOf(range.Begin.Span), range.Begin.Span);
        for (; chunk < _chunks.Count; chunk++, index = 0)
        {
            var entries = _chunks[chunk];
            for (; index < entries.Count; index++)
            {
                var history = entries[index];
                if (!range.IsBeforeEnd(history.Key.Span))
                    yield break;
                yield return history;
            }
        }
    }

    /// <summary>Every history in key order.</summary>
    /// <returns>A lazy sequence; the index must not change while it is enumerated.</returns>
    public IEnumerable<KeyHistory> All()
    {
        foreach (var chunk in _chunks)
        {
            for (var i = 0; i < chunk.Count; i++)
                yield return chunk[i];
        }
    }

    /// <summary>Removes every key.</summary>
    public void Clear()
    {
        _chunks.Clear();
        _byKey.Clear();
        Count = 0;
        Bytes = 0;
    }

    /// <summary>
    /// Where <paramref name="key"/> is or would be inserted: the chunk holding the first key not
    /// before it (the last chunk when every key is before it) and the position within that chunk.
    /// </summary>
    private (int Chunk, int Index, bool Found) Locate(ulong prefix, ReadOnlySpan<byte> key)
    {
        if (_chunks.Count == 0)
            return (0, 0, false);

        // First chunk whose last key is not before the key.
        var lo = 0;
        var hi = _chunks.Count - 1;
        while (lo < hi)
        {
            var mid = lo + ((hi - lo) >> 1);
            if (_chunks[mid].CompareLast(prefix, key) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }

        (var index, var found) = _chunks[lo].Search(prefix, key);
        return (lo, index, found);
    }
}
