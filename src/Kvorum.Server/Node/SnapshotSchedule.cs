using Kvorum.Storage;

namespace Kvorum.Server.Node;

/// <summary>A snapshot written and durable in the background, waiting to be made current.</summary>
/// <param name="Prepared">The storage's handle on it; null when the storage held a newer snapshot already.</param>
/// <param name="Bytes">The size of its file.</param>
/// <param name="Took">How long writing it took, for the log.</param>
internal sealed record WrittenSnapshot(PreparedSnapshot? Prepared, long Bytes, TimeSpan Took);

/// <summary>
/// When this member snapshots its state machine, and what its storage holds for a restart: a snapshot starts once
/// <see cref="ServerOptions.SnapshotCount"/> entries were applied since the last one and their bytes reach
/// <see cref="LogShare"/> of its size; one written is made current once <see cref="ServerOptions.SnapshotCatchUpEntries"/>
/// entries were applied after it; a failed one is tried again <see cref="ServerOptions.SnapshotCount"/> entries later.
/// It also keeps the sizes behind <c>db_size_in_use</c> (<see cref="BytesInUse"/>).
/// </summary>
/// <remarks>
/// Owned by the member loop (<see cref="LoopOwner"/>); only <see cref="BytesInUse"/> may be read on other threads.
/// At most one snapshot is under way (being written, or written and waiting to be made current) at a time.
/// </remarks>
internal sealed class SnapshotSchedule
{
    /// <summary>
    /// A snapshot waits until the entries applied since the last one add up to at least this share of that
    /// snapshot's size (Raft thesis §5.1.3): writing snapshots then costs at most 1 / share bytes per byte of
    /// log, however large the state grows. By entry count alone, a state of a few hundred MB would be written
    /// out again every <see cref="ServerOptions.SnapshotCount"/> entries, a cost that grows with the state.
    /// The log kept in the meantime is at most this share of the state's size; for puts that costs little memory,
    /// since a put's value in the store is a view into its entry's payload (<see cref="PutValueSharing"/>).
    /// A half, not a quarter: at a quarter the state is rewritten four times per byte of log, and the thread writing
    /// snapshots took a noticeable share of a follower's CPU under puts (measured in docs/benchmarks.md).
    /// </summary>
    public const double LogShare = 0.5;

    private readonly ulong _count;
    private readonly ulong _catchUpEntries;
    private readonly LoopOwner _owner;

    // Size of the current snapshot's file, and bytes of entries applied since it was taken: those before the
    // snapshot being written, if one is (_bytesPending), and those after (_appliedBytes).
    private long _lastBytes;
    private long _bytesPending;
    private long _appliedBytes;

    // Their sum, published whenever one changes for readers on other threads (StorageSizes): reading the three there
    // could mix values from before and after a snapshot is committed, such as the old snapshot's size beside the new
    // one's empty pending count, and report less than the state holds.
    private long _bytesInUse;

    private bool _inFlight;
    private WrittenSnapshot? _written;

    // After a failed snapshot, no new attempt before this applied index.
    private ulong _retryIndex;

    /// <summary>Creates the schedule of one member; a test passes no <paramref name="owner"/>.</summary>
    /// <param name="count">Entries applied between snapshots, at least (<see cref="ServerOptions.SnapshotCount"/>).</param>
    /// <param name="catchUpEntries">Entries applied after a snapshot before it is made current (<see cref="ServerOptions.SnapshotCatchUpEntries"/>).</param>
    /// <param name="owner">The loop that owns the schedule.</param>
    public SnapshotSchedule(ulong count, ulong catchUpEntries, LoopOwner? owner = null)
    {
        _count = count;
        _catchUpEntries = catchUpEntries;
        _owner = owner ?? new LoopOwner();
    }

    /// <summary>The index of the current snapshot (taken here or installed from a leader).</summary>
    public ulong LastIndex { get; private set; }

    /// <summary>A snapshot is being written, or written and waiting to be made current.</summary>
    public bool InFlight => _inFlight;

    /// <summary>
    /// What a restart needs of the storage: the current snapshot's size plus the bytes of the entries applied since
    /// (<c>db_size_in_use</c>). Any thread.
    /// </summary>
    public long BytesInUse => Volatile.Read(ref _bytesInUse);

    /// <summary>An entry of <paramref name="bytes"/> was applied.</summary>
    public void Applied(int bytes)
    {
        _owner.AssertOwned();
        _appliedBytes += bytes;
        Publish();
    }

    /// <summary>True when a snapshot is due at <paramref name="applied"/> (see the class's summary).</summary>
    public bool IsDue(ulong applied) =>
        !_inFlight && applied >= LastIndex + _count && applied >= _retryIndex && _appliedBytes >= _lastBytes * LogShare;

    /// <summary>
    /// A snapshot starts: the bytes applied until now are pending in it, and what is applied from now on counts
    /// towards the next one. Returns the bytes pending, which <see cref="Failed"/> gives back.
    /// </summary>
    public long Started()
    {
        _owner.AssertOwned();
        var pending = _appliedBytes;
        _bytesPending = pending;
        _appliedBytes = 0;
        Publish();
        _inFlight = true;
        return pending;
    }

    /// <summary>
    /// Writing the snapshot started with <paramref name="pending"/> bytes failed at applied index
    /// <paramref name="applied"/>: the log stays, and no new attempt starts before <see cref="ServerOptions.SnapshotCount"/>
    /// more entries.
    /// </summary>
    public void Failed(ulong applied, long pending)
    {
        _owner.AssertOwned();
        _inFlight = false;
        _retryIndex = applied + _count;
        _appliedBytes += pending;
        _bytesPending = 0;
        Publish();
    }

    /// <summary>The snapshot under way was written and is durable; it waits for <see cref="TakeIfDue"/>.</summary>
    public void Written(WrittenSnapshot written)
    {
        _owner.AssertOwned();
        _written = written;
    }

    /// <summary>
    /// The written snapshot, once <see cref="ServerOptions.SnapshotCatchUpEntries"/> entries have been applied after it
    /// (<paramref name="applied"/>), or null. Making it current compacts the log up to it, so the log then still holds
    /// at least that many entries behind the applied index, for followers that fell a little behind. One the storage
    /// would not take is let go at once.
    /// </summary>
    public WrittenSnapshot? TakeIfDue(ulong applied)
    {
        _owner.AssertOwned();
        if (_written is not { } written)
            return null;
        if (written.Prepared is { } prepared && applied < prepared.Index + _catchUpEntries)
            return null;
        _written = null;
        return written;
    }

    /// <summary>
    /// The snapshot taken was made current at <paramref name="index"/> with <paramref name="bytes"/>, or not
    /// (<paramref name="index"/> null: the log had a newer snapshot, one installed from the leader meanwhile).
    /// </summary>
    public void Finished(ulong? index, long bytes)
    {
        _owner.AssertOwned();
        _inFlight = false;
        _bytesPending = 0;
        if (index is { } current)
        {
            LastIndex = Math.Max(LastIndex, current);
            _lastBytes = bytes;
        }
        Publish();
    }

    /// <summary>The state machine was replaced by the storage's snapshot at <paramref name="index"/>, of <paramref name="bytes"/>.</summary>
    public void Restored(ulong index, long bytes)
    {
        _owner.AssertOwned();
        _lastBytes = bytes;
        _bytesPending = 0;
        _appliedBytes = 0;
        LastIndex = index;
        Publish();
    }

    private void Publish() => Volatile.Write(ref _bytesInUse, _lastBytes + _bytesPending + _appliedBytes);
}
