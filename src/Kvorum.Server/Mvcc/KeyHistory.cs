using Google.Protobuf;

namespace Kvorum.Server.Mvcc;

/// <summary>
/// Every change of one key since the last compaction, oldest first: puts and tombstones
/// ordered by revision. A key with no entries left is dropped from the index.
/// </summary>
/// <remarks>
/// The versions are held in a bare array (no list object around it), which starts with room for
/// <see cref="InitialCapacity"/>. Growing it is what a put on an existing key costs the collector: the new array is
/// young and the history holding it old, so the next young collection has to find it from the old generation
/// (figures in <c>docs/mvcc.md</c>).
/// <para>A snapshot shares the array rather than copying it (<see cref="Share"/>): the shared slots are never
/// written again, since an append writes past them and a change to them first copies the array.</para>
/// </remarks>
internal sealed class KeyHistory
{
    // Invariant: the entries are _versions[0.._count), revisions strictly increasing.
    private KeyVersion[] _versions = [];
    private int _count;

    // Invariant: _shared <= _count, and _versions[0.._shared) may be read by a snapshot on another thread,
    // so those slots are not written again; a change to them copies the array first (CopyBeforeChange).
    private int _shared;

    /// <summary>Room for this many versions when the first one is appended.</summary>
    public const int InitialCapacity = 4;

    // The newest entry's main revision and kind, copied here so that counting the keys of a large
    // range touches only this object (see ExistsAt). Kept in step by RefreshNewest.
    private long _newestMain = long.MaxValue;
    private bool _newestIsTombstone = true;

    // The index whose size (KeyIndex.Bytes) counts this history's entries; null for a history of its own.
    private readonly KeyIndex? _owner;

    /// <summary>Creates an empty history for <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    /// <param name="owner">The index that counts the bytes of its entries (<see cref="KeyIndex.Bytes"/>), if any.</param>
    public KeyHistory(ByteString key, KeyIndex? owner = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        Key = key;
        _owner = owner;
    }

    /// <summary>The key.</summary>
    public ByteString Key { get; }

    /// <summary>The entries, oldest first; valid until the history next changes.</summary>
    public ReadOnlySpan<KeyVersion> Versions => _versions.AsSpan(0, _count);

    /// <summary>True when no entry is left.</summary>
    public bool IsEmpty => _count == 0;

    /// <summary>The newest entry, or null when the history is empty.</summary>
    public KeyVersion? Newest => _count == 0 ? null : _versions[_count - 1];

    /// <summary>The key's live value at the newest revision, or null when it is absent or deleted.</summary>
    public KeyVersion? Live => Newest is { IsTombstone: false } newest ? newest : null;

    /// <summary>The key's value as of store revision <paramref name="revision"/>, or null when
    /// the key did not exist then (never created, deleted, or compacted away).</summary>
    /// <param name="revision">A main revision.</param>
    /// <returns>The entry in force at that revision, unless it is a tombstone.</returns>
    public KeyVersion? At(long revision)
    {
        // Most reads are of the newest revision.
        if (_newestMain <= revision)
            return _newestIsTombstone ? null : _versions[_count - 1];
        var index = LastAtOrBefore(revision);
        if (index < 0)
            return null;
        var found = _versions[index];
        return found.IsTombstone ? null : found;
    }

    /// <summary>True when the key existed at store revision <paramref name="revision"/>: the same as
    /// <c>At(revision) is not null</c>, without leaving this object for current reads.</summary>
    /// <param name="revision">A main revision.</param>
    /// <returns>Whether the key had a value then.</returns>
    public bool ExistsAt(long revision) =>
        _newestMain <= revision ? !_newestIsTombstone : At(revision) is not null;

    /// <summary>Appends a change; it must be newer than every entry present.</summary>
    /// <param name="version">The new entry.</param>
    public void Append(KeyVersion version)
    {
        if (_count > 0 && version.Revision <= _versions[_count - 1].Revision)
            throw new InvalidOperationException($"Revision {version.Revision} is not newer than {_versions[_count - 1].Revision}.");
        if (_count == _versions.Length)
        {
            Array.Resize(ref _versions, Math.Max(InitialCapacity, _count * 2));
            _shared = 0; // a snapshot may read the old array; nobody shares the new one
        }
        System.Diagnostics.Debug.Assert(_count >= _shared, "an append writes past the slots a snapshot may read");
        _versions[_count++] = version;
        _owner?.AddBytes(KeyIndex.SizeOf(Key, version));
        RefreshNewest();
    }

    /// <summary>Drops every entry whose main revision is at least <paramref name="main"/>: undoes an
    /// unfinished write.</summary>
    /// <param name="main">The first main revision to drop.</param>
    public void TruncateFrom(long main)
    {
        var keep = LastAtOrBefore(main - 1) + 1;
        if (keep < _shared)
            CopyBeforeChange(_versions.Length);
        System.Diagnostics.Debug.Assert(keep >= _shared, "an undo clears no slot a snapshot may read");
        Uncount(keep, _count);
        Array.Clear(_versions, keep, _count - keep);
        _count = keep;
        RefreshNewest();
    }

    /// <summary>Drops what no read at or after <paramref name="revision"/> can see: every entry at or
    /// before it except the newest such entry, and that one too when it is a tombstone.</summary>
    /// <param name="revision">The compaction revision.</param>
    public void Compact(long revision)
    {
        var index = LastAtOrBefore(revision);
        if (index < 0)
            return;
        var drop = _versions[index].IsTombstone ? index + 1 : index;
        if (drop == 0)
            return;
        Uncount(0, drop);
        var left = _count - drop;
        if (left <= _versions.Length / 4 || _shared > 0)
        {
            // Most of the history went: give the room back. Or a snapshot may be reading the slots that would
            // move: leave them as they are.
            var smaller = left == 0 ? [] : new KeyVersion[Math.Max(InitialCapacity, left)];
            Array.Copy(_versions, drop, smaller, 0, left);
            _versions = smaller;
            _shared = 0;
        }
        else
        {
            System.Diagnostics.Debug.Assert(_shared == 0, "a compaction moves no slot a snapshot may read");
            Array.Copy(_versions, drop, _versions, 0, left);
            Array.Clear(_versions, left, drop);
        }
        _count = left;
        RefreshNewest();
    }

    /// <summary>
    /// The entries as they are now, for a snapshot written on another thread while this history goes on
    /// changing: they stay as they are, since the history writes past them or into a copy of its array.
    /// Call it on the thread that owns the store.
    /// </summary>
    public ReadOnlyMemory<KeyVersion> Share()
    {
        _shared = _count;
        return _versions.AsMemory(0, _count);
    }

    /// <summary>What this history's entries count towards its index's size (<see cref="KeyIndex.Bytes"/>).</summary>
    public long CountedBytes() => BytesOf(0, _count);

    /// <summary>Takes the entries in <c>[from, to)</c>, about to be dropped, off the owner's size.</summary>
    private void Uncount(int from, int to) => _owner?.AddBytes(-BytesOf(from, to));

    private long BytesOf(int from, int to)
    {
        long bytes = 0;
        for (var i = from; i < to; i++)
            bytes += KeyIndex.SizeOf(Key, _versions[i]);
        return bytes;
    }

    private void CopyBeforeChange(int capacity)
    {
        var copy = new KeyVersion[capacity];
        Array.Copy(_versions, copy, _count);
        _versions = copy;
        _shared = 0;
    }

    private void RefreshNewest()
    {
        if (_count == 0)
        {
            _newestMain = long.MaxValue;
            _newestIsTombstone = true;
            return;
        }
        _newestMain = _versions[_count - 1].Revision.Main;
        _newestIsTombstone = _versions[_count - 1].IsTombstone;
    }

    /// <summary>Index of the newest entry with main revision at most <paramref name="revision"/>, or -1.</summary>
    private int LastAtOrBefore(long revision)
    {
        var lo = 0;
        var hi = _count - 1;
        while (lo <= hi)
        {
            var mid = lo + ((hi - lo) >> 1);
            if (_versions[mid].Revision.Main <= revision)
                lo = mid + 1;
            else
                hi = mid - 1;
        }
        return hi;
    }
}
