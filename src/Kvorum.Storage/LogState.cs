using Kvorum.Raft;

namespace Kvorum.Storage;

/// <summary>
/// The log as the WAL describes it: snapshot, hard state and the entries after the snapshot. The same
/// transitions run when a record is written and when it is replayed on open, so what recovery rebuilds
/// is by construction what was written. Semantics match <see cref="MemoryRaftStorage"/>.
/// </summary>
/// <remarks>
/// Invariant: <c>_entries.Start &gt;= Snapshot.Index + 1</c>.
/// While a live log runs, <c>_entries.Start == Snapshot.Index + 1</c>. During replay of a WAL whose oldest
/// segments were deleted by compaction, replay starts from a segment header whose snapshot may be older
/// than the entries the deleted segments held: then [Snapshot.Index + 1, _entries.Start - 1] is a "hole" that a
/// later snapshot record must cover before replay ends (<see cref="HasHole"/>).
/// </remarks>
internal sealed class LogState
{
    private readonly ContiguousEntries _entries;

    /// <summary>Creates the state at the start of a segment: snapshot and hard state from its header,
    /// no entries, and the next entry expected at <paramref name="baseIndex"/> + 1.</summary>
    public LogState(SnapshotRef snapshot, HardState hardState, ulong baseIndex)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (baseIndex < snapshot.Index)
            throw new FormatException($"segment base index {baseIndex} is below its snapshot index {snapshot.Index}");
        Snapshot = snapshot;
        HardState = hardState;
        _entries = new ContiguousEntries(baseIndex + 1);
    }

    /// <summary>The latest snapshot.</summary>
    public SnapshotRef Snapshot { get; private set; }

    /// <summary>The latest hard state.</summary>
    public HardState HardState { get; set; }

    /// <summary>First index still in the log.</summary>
    public ulong FirstIndex => Snapshot.Index + 1;

    /// <summary>Last index in the log (or the snapshot's, or the base of a hole, when there are no entries).</summary>
    public ulong LastIndex => _entries.Last;

    /// <summary>Number of entries held.</summary>
    public int Count => _entries.Count;

    /// <summary>True if entries between the snapshot and the first held entry are unknown.</summary>
    public bool HasHole => _entries.Start > Snapshot.Index + 1;

    /// <summary>Index of the first held entry (after the hole, if any).</summary>
    public ulong StartIndex => _entries.Start;

    /// <summary>
    /// Appends <paramref name="entry"/>, first dropping any entries at or after its index. An entry the
    /// snapshot already covers is ignored (returns false). Throws on a gap.
    /// </summary>
    public bool Append(Entry entry)
    {
        if (entry.Index <= Snapshot.Index)
            return false;
        // An index before the first held entry is possible only while a hole exists: the truncation reaches into it.
        _entries.Append(entry);
        return true;
    }

    /// <summary>Records a snapshot taken by the application; drops the entries it covers.</summary>
    public void CreateSnapshot(SnapshotRef snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (snapshot.Index <= Snapshot.Index || snapshot.Index > LastIndex)
            throw new InvalidOperationException($"snapshot {snapshot.Index} is not in ({Snapshot.Index}, {LastIndex}]");
        _entries.DropThrough(snapshot.Index);
        Snapshot = snapshot;
    }

    /// <summary>Replaces the whole log with a received snapshot.</summary>
    public void InstallSnapshot(SnapshotRef snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (snapshot.Index < Snapshot.Index)
            throw new InvalidOperationException($"snapshot {snapshot.Index} is older than {Snapshot.Index}");
        _entries.Reset(snapshot.Index + 1);
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
        return _entries.TryGetTerm(index, out term);
    }

    /// <summary>Same contract as <see cref="IRaftStorage.GetEntries"/>.</summary>
    public void GetEntries(ulong lo, ulong hi, long maxBytes, List<Entry> into) => _entries.GetEntries(lo, hi, maxBytes, into);

    /// <summary>The entry at <paramref name="index"/>, which must be held.</summary>
    public Entry this[ulong index] => _entries[index];
}
