using Kvorum.Raft;

namespace Kvorum.Storage;

/// <summary>
/// The log as the WAL describes it: snapshot, hard state and the entries after the snapshot. The same
/// transitions run when a record is written and when it is replayed on open, so what recovery rebuilds
/// is by construction what was written. Semantics match <see cref="MemoryRaftStorage"/>.
/// </summary>
/// <remarks>
/// Invariant: <c>_entries[i].Index == _start + i</c> and <c>_start &gt;= Snapshot.Index + 1</c>.
/// While a live log runs, <c>_start == Snapshot.Index + 1</c>. During replay of a WAL whose oldest
/// segments were deleted by compaction, replay starts from a segment header whose snapshot may be older
/// than the entries the deleted segments held: then [Snapshot.Index + 1, _start - 1] is a "hole" that a
/// later snapshot record must cover before replay ends (<see cref="HasHole"/>).
/// </remarks>
internal sealed class LogState
{
    private readonly List<Entry> _entries = [];
    private ulong _start;

    /// <summary>Creates the state at the start of a segment: snapshot and hard state from its header,
    /// no entries, and the next entry expected at <paramref name="baseIndex"/> + 1.</summary>
    public LogState(SnapshotRef snapshot, HardState hardState, ulong baseIndex)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (baseIndex < snapshot.Index)
            throw new FormatException($"segment base index {baseIndex} is below its snapshot index {snapshot.Index}");
        Snapshot = snapshot;
        HardState = hardState;
        _start = baseIndex + 1;
    }

    /// <summary>The latest snapshot.</summary>
    public SnapshotRef Snapshot { get; private set; }

    /// <summary>The latest hard state.</summary>
    public HardState HardState { get; set; }

    /// <summary>First index still in the log.</summary>
    public ulong FirstIndex => Snapshot.Index + 1;

    /// <summary>Last index in the log (or the snapshot's, or the base of a hole, when there are no entries).</summary>
    public ulong LastIndex => _start - 1 + (ulong)_entries.Count;

    /// <summary>Number of entries held.</summary>
    public int Count => _entries.Count;

    /// <summary>True if entries between the snapshot and the first held entry are unknown.</summary>
    public bool HasHole => _start > Snapshot.Index + 1;

    /// <summary>Index of the first held entry (after the hole, if any).</summary>
    public ulong StartIndex => _start;

    /// <summary>
    /// Appends <paramref name="entry"/>, first dropping any entries at or after its index. An entry the
    /// snapshot already covers is ignored (returns false). Throws on a gap.
    /// </summary>
    public bool Append(Entry entry)
    {
        var i = entry.Index;
        if (i <= Snapshot.Index)
            return false;
        if (i < _start)
        {
            // Only while a hole exists: the truncation reaches into the hole.
            _entries.Clear();
            _start = i;
        }
        else if (i > LastIndex + 1)
        {
            throw new InvalidOperationException($"gap in log: appending {i} after {LastIndex}");
        }
        else
        {
            var keep = (int)(i - _start);
            if (keep < _entries.Count)
                _entries.RemoveRange(keep, _entries.Count - keep);
        }
        _entries.Add(entry);
        return true;
    }

    /// <summary>Records a snapshot taken by the application; drops the entries it covers.</summary>
    public void CreateSnapshot(SnapshotRef snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (snapshot.Index <= Snapshot.Index || snapshot.Index > LastIndex)
            throw new InvalidOperationException($"snapshot {snapshot.Index} is not in ({Snapshot.Index}, {LastIndex}]");
        if (snapshot.Index >= _start)
        {
            _entries.RemoveRange(0, (int)(snapshot.Index - _start + 1));
            _start = snapshot.Index + 1;
        }
        Snapshot = snapshot;
    }

    /// <summary>Replaces the whole log with a received snapshot.</summary>
    public void InstallSnapshot(SnapshotRef snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (snapshot.Index < Snapshot.Index)
            throw new InvalidOperationException($"snapshot {snapshot.Index} is older than {Snapshot.Index}");
        _entries.Clear();
        _start = snapshot.Index + 1;
        Snapshot = snapshot;
    }

    /// <summary>Same contract as <see cref="IRaftStorage.TryGetTerm"/>.</summary>
    public bool TryGetTerm(ulong index, out ulong term)
    {
        if (index == Snapshot.Index)
        {
            term = Snapshot.Metadata.Term;
            return true;
        }
        if (index < _start || index > LastIndex)
        {
            term = 0;
            return false;
        }
        term = _entries[(int)(index - _start)].Term;
        return true;
    }

    /// <summary>Same contract as <see cref="IRaftStorage.GetEntries"/>.</summary>
    public void GetEntries(ulong lo, ulong hi, long maxBytes, List<Entry> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        if (lo < FirstIndex)
            throw new ArgumentOutOfRangeException(nameof(lo), $"index {lo} is compacted (first index {FirstIndex})");
        if (hi > LastIndex + 1 || lo > hi)
            throw new ArgumentOutOfRangeException(nameof(hi), $"range [{lo}, {hi}) is past the last index {LastIndex}");
        long size = 0;
        for (var i = lo; i < hi; i++)
        {
            var e = _entries[(int)(i - _start)];
            size += e.Size;
            if (size > maxBytes && i > lo)
                break;
            into.Add(e);
        }
    }

    /// <summary>The entry at <paramref name="index"/>, which must be held.</summary>
    public Entry this[ulong index] => _entries[(int)(index - _start)];
}
