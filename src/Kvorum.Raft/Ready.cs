namespace Kvorum.Raft;

/// <summary>The role a server plays (paper Figure 4, plus PreCandidate for thesis §9.6).</summary>
public enum StateRole : byte
{
    /// <summary>Passive: answers leaders and candidates.</summary>
    Follower,

    /// <summary>Running a PreVote round before a real election (thesis §9.6).</summary>
    PreCandidate,

    /// <summary>Running an election.</summary>
    Candidate,

    /// <summary>Handles client requests and replicates the log.</summary>
    Leader,
}

/// <summary>Volatile state worth reporting to the host when it changes: who leads and what we are.</summary>
/// <param name="Lead">Current leader, or 0 if none is known.</param>
/// <param name="Role">This server's role.</param>
public readonly record struct SoftState(ulong Lead, StateRole Role);

/// <summary>
/// A linearizable read point (thesis §6.4): once the state machine has applied <paramref name="Index"/>,
/// the read identified by <paramref name="Context"/> may be served.
/// </summary>
public readonly record struct ReadState(ulong Index, ReadOnlyMemory<byte> Context);

/// <summary>
/// What the host must do next, in this order: (1) persist <see cref="HardState"/>, <see cref="Entries"/> and
/// <see cref="Snapshot"/>; (2) send <see cref="Messages"/>; (3) apply <see cref="CommittedEntries"/>;
/// (4) answer <see cref="ReadStates"/> once applied; then call <c>RaftNode.Advance</c>.
/// </summary>
/// <remarks>
/// A leader may send its non-response messages (Append, Heartbeat, Snapshot, TimeoutNow) in parallel
/// with step (1) (thesis §10.2.1): the core counts the leader's own entries toward a quorum only after
/// <c>RaftNode.Advance</c> reports them persisted. Responses (<see cref="Message.IsResponse"/>) and
/// votes must wait for step (1).
/// </remarks>
public sealed class Ready
{
    /// <summary>Changed role or leader, or null if unchanged.</summary>
    public SoftState? SoftState { get; init; }

    /// <summary>Hard state to persist, or null if unchanged.</summary>
    public HardState? HardState { get; init; }

    /// <summary>Entries to append to stable storage (may replace a conflicting suffix).</summary>
    public IReadOnlyList<Entry> Entries { get; init; } = [];

    /// <summary><see cref="Entries"/> as a span, without copying (valid until <c>RaftNode.Advance</c>).</summary>
    public ReadOnlySpan<Entry> EntriesSpan => Entries switch
    {
        List<Entry> list => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list),
        Entry[] array => array,
        _ => Entries.ToArray(),
    };

    /// <summary>A snapshot received from the leader to install and persist, or null.</summary>
    public SnapshotMetadata? Snapshot { get; init; }

    /// <summary>Committed entries to apply to the state machine, in order.</summary>
    public IReadOnlyList<Entry> CommittedEntries { get; init; } = [];

    /// <summary>Messages to send. The list and the messages' entry slices are reused after <c>RaftNode.Advance</c>.</summary>
    public IReadOnlyList<Message> Messages { get; init; } = [];

    /// <summary>Read points that became ready (a list reused after <c>RaftNode.Advance</c>).</summary>
    public IReadOnlyList<ReadState> ReadStates { get; init; } = [];

    /// <summary>True if the hard state or entries must reach the disk (fsync) before messages are sent.</summary>
    public bool MustSync { get; init; }

    /// <summary>
    /// True if the host may finish persisting this Ready after <c>RaftNode.AdvanceBeforePersisted</c>, reporting
    /// the write with <c>RaftNode.ReportPersisted</c> once it is durable: the server leads, the Ready carries no
    /// snapshot and changes neither term nor vote, so none of its messages promises anything about this
    /// write (thesis §10.2.1: the leader writes to its disk in parallel with replicating, and counts its own
    /// entries toward a quorum only once they are durable). The host's writes must become durable in the
    /// order they were issued.
    /// </summary>
    public bool MayPersistLater { get; init; }

    /// <summary>
    /// True if <paramref name="message"/> may be sent before this Ready's write is durable: a leader's replication
    /// messages (Append, Heartbeat, Snapshot, TimeoutNow) in a Ready that <see cref="MayPersistLater"/> (thesis
    /// §10.2.1). Never in a Ready that changes the term or the vote: a server that won an election in it and crashed
    /// before the write could win the same term again and send other entries under the same (index, term).
    /// Everything else waits for the write.
    /// </summary>
    public bool MaySendBeforePersisting(in Message message) =>
        MayPersistLater && message.Type is MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot or MessageType.TimeoutNow;
}
