namespace Kvorum.Raft;

/// <summary>
/// Read access to what a server has persisted: the core reads its log through this and never
/// writes to it. Indexes are contiguous: the log holds [<see cref="FirstIndex"/>, <see cref="LastIndex"/>],
/// and everything at or below <see cref="FirstIndex"/> - 1 is covered by <see cref="Snapshot"/>.
/// </summary>
/// <remarks>
/// The core calls these methods from its single thread only while the host is inside a core call
/// (Tick, Step, GetReady, ...). Implementations must return what has been persisted, including what
/// the host persisted from earlier <see cref="Ready"/> batches.
/// </remarks>
public interface IRaftStorage
{
    /// <summary>The last hard state saved, or <see cref="HardState.Empty"/>.</summary>
    HardState HardState { get; }

    /// <summary>Metadata of the latest snapshot, or <see cref="SnapshotMetadata.Empty"/>.</summary>
    SnapshotMetadata Snapshot { get; }

    /// <summary>Index of the first entry still in the log; <c>Snapshot.Index + 1</c>.</summary>
    ulong FirstIndex { get; }

    /// <summary>Index of the last entry in the log, or <c>Snapshot.Index</c> when the log is empty.</summary>
    ulong LastIndex { get; }

    /// <summary>
    /// Gets the term of the entry at <paramref name="index"/>, for any index in
    /// [<c>FirstIndex - 1</c>, <c>LastIndex</c>] (the lower end answered from the snapshot).
    /// Returns false for a compacted or a missing index.
    /// </summary>
    bool TryGetTerm(ulong index, out ulong term);

    /// <summary>
    /// Appends entries [<paramref name="lo"/>, <paramref name="hi"/>) to <paramref name="into"/>, stopping once
    /// their total <see cref="Entry.Size"/> exceeds <paramref name="maxBytes"/> — but always at least one entry.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lo"/> is compacted or <paramref name="hi"/> is past the end.</exception>
    void GetEntries(ulong lo, ulong hi, long maxBytes, List<Entry> into);
}

/// <summary>
/// A durable log that a simple host drives synchronously: every method returns only once what it
/// wrote is on stable storage. <see cref="MemoryRaftStorage"/> implements it in memory; Kvorum.Storage
/// implements it on disk.
/// </summary>
public interface IRaftLogStore : IRaftStorage
{
    /// <summary>
    /// Persists a <see cref="Ready"/>'s hard state (if not null) and entries. If the first entry's index is
    /// at or below <see cref="IRaftStorage.LastIndex"/>, the log's suffix from that index is replaced (a conflict
    /// truncation, paper §5.3). A hard state that differs from the stored one only in its commit index
    /// may be written lazily (with the next durable write, or on close): a commit index is a lower bound
    /// that a restarted member relearns from the leader, so losing its latest value costs nothing.
    /// The store may keep the entries' payloads by reference rather than copy them: they must not change
    /// after Save.
    /// </summary>
    void Save(HardState? hardState, ReadOnlySpan<Entry> entries);

    /// <summary>
    /// Replaces the whole log with a snapshot received from a leader (paper §7): afterwards
    /// FirstIndex is <c>metadata.Index + 1</c> and the log is empty.
    /// </summary>
    void ApplySnapshot(SnapshotMetadata metadata, ReadOnlyMemory<byte> data);

    /// <summary>
    /// Records a snapshot that the application took at <paramref name="index"/> (at most the applied
    /// index) and drops the log entries it covers, keeping any after it.
    /// </summary>
    void CreateSnapshot(ulong index, ConfState confState, ReadOnlyMemory<byte> data);

    /// <summary>The bytes of the latest snapshot, as given to <see cref="ApplySnapshot"/> or <see cref="CreateSnapshot"/>.</summary>
    ReadOnlyMemory<byte> SnapshotData { get; }
}
