using Google.Protobuf;

namespace Kvorum.Server.Mvcc;

/// <summary>
/// Every change of one key since the last compaction, oldest first: puts and tombstones
/// ordered by revision. A key with no entries left is dropped from the index.
/// </summary>
internal sealed class KeyHistory
{
    private readonly List<KeyVersion> _versions = [];

    // The newest entry's main revision and kind, copied here so that counting the keys of a large
    // range touches only this object (see ExistsAt). Kept in step by RefreshNewest.
    private long _newestMain = long.MaxValue;
    private bool _newestIsTombstone = true;

    /// <summary>Creates an empty history for <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    public KeyHistory(ByteString key)
    {
        ArgumentNullException.ThrowIfNull(key);
        Key = key;
    }

    /// <summary>The key.</summary>
    public ByteString Key { get; }

    /// <summary>The entries, oldest first.</summary>
    public IReadOnlyList<KeyVersion> Versions => _versions;

    /// <summary>True when no entry is left.</summary>
    public bool IsEmpty => _versions.Count == 0;

    /// <summary>The newest entry, or null when the history is empty.</summary>
    public KeyVersion? Newest => _versions.Count == 0 ? null : _versions[^1];

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
            return _newestIsTombstone ? null : _versions[^1];
        int index = LastAtOrBefore(revision);
        if (index < 0)
            return null;
        KeyVersion found = _versions[index];
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
        if (_versions.Count > 0 && version.Revision <= _versions[^1].Revision)
            throw new InvalidOperationException($"Revision {version.Revision} is not newer than {_versions[^1].Revision}.");
        _versions.Add(version);
        RefreshNewest();
    }

    /// <summary>Drops every entry whose main revision is at least <paramref name="main"/>: undoes an
    /// unfinished write.</summary>
    /// <param name="main">The first main revision to drop.</param>
    public void TruncateFrom(long main)
    {
        int keep = LastAtOrBefore(main - 1) + 1;
        _versions.RemoveRange(keep, _versions.Count - keep);
        RefreshNewest();
    }

    /// <summary>Drops what no read at or after <paramref name="revision"/> can see: every entry at or
    /// before it except the newest such entry, and that one too when it is a tombstone.</summary>
    /// <param name="revision">The compaction revision.</param>
    public void Compact(long revision)
    {
        int index = LastAtOrBefore(revision);
        if (index < 0)
            return;
        int drop = _versions[index].IsTombstone ? index + 1 : index;
        _versions.RemoveRange(0, drop);
        RefreshNewest();
    }

    private void RefreshNewest()
    {
        if (_versions.Count == 0)
        {
            _newestMain = long.MaxValue;
            _newestIsTombstone = true;
            return;
        }
        _newestMain = _versions[^1].Revision.Main;
        _newestIsTombstone = _versions[^1].IsTombstone;
    }

    /// <summary>Index of the newest entry with main revision at most <paramref name="revision"/>, or -1.</summary>
    private int LastAtOrBefore(long revision)
    {
        int lo = 0;
        int hi = _versions.Count - 1;
        while (lo <= hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            if (_versions[mid].Revision.Main <= revision)
                lo = mid + 1;
            else
                hi = mid - 1;
        }
        return hi;
    }
}
