namespace Kvorum.Raft;

/// <summary>The kinds of message servers exchange (paper Figure 2, thesis chapters 3–6 and 9).</summary>
public enum MessageType : byte
{
    /// <summary>AppendEntries RPC (paper §5.3): entries after (<see cref="Message.Index"/>, <see cref="Message.LogTerm"/>).</summary>
    Append = 1,

    /// <summary>AppendEntries reply; <see cref="Message.Index"/> is the follower's last matching index, or the rejected index.</summary>
    AppendResponse = 2,

    /// <summary>RequestVote RPC (paper §5.2); <see cref="Message.Index"/>/<see cref="Message.LogTerm"/> describe the candidate's last entry.</summary>
    Vote = 3,

    /// <summary>RequestVote reply.</summary>
    VoteResponse = 4,

    /// <summary>PreVote request (thesis §9.6): would you vote for me at <see cref="Message.Term"/>? Changes no state.</summary>
    PreVote = 5,

    /// <summary>PreVote reply.</summary>
    PreVoteResponse = 6,

    /// <summary>Leader heartbeat: an empty AppendEntries that does not check the log; carries a read-index context.</summary>
    Heartbeat = 7,

    /// <summary>Heartbeat reply; echoes the context.</summary>
    HeartbeatResponse = 8,

    /// <summary>InstallSnapshot RPC (paper §7): metadata in <see cref="Message.Snapshot"/>, bytes sent by the host.</summary>
    Snapshot = 9,

    /// <summary>Leadership transfer (thesis §3.10): start an election now, without waiting for a timeout.</summary>
    TimeoutNow = 10,

    /// <summary>A follower asks the leader for a read index (thesis §6.4); <see cref="Message.Context"/> identifies the read.</summary>
    ReadIndex = 11,

    /// <summary>The leader's answer to <see cref="ReadIndex"/>: <see cref="Message.Index"/> is the read index.</summary>
    ReadIndexResponse = 12,

    /// <summary>A follower forwards a leadership transfer request to the leader; <see cref="Message.Index"/> is the target.</summary>
    TransferLeader = 13,

    /// <summary>A follower forwards client proposals (<see cref="Message.Entries"/>, index and term unset) to the leader.</summary>
    Propose = 14,
}

/// <summary>
/// One message between two servers. The host delivers it with <c>RaftNode.Step</c> on the
/// receiving side; the core never sends anything itself. Fields not used by a type are zero.
/// </summary>
public readonly record struct Message
{
    /// <summary>What the message is.</summary>
    public MessageType Type { get; init; }

    /// <summary>Sender.</summary>
    public ulong From { get; init; }

    /// <summary>Recipient.</summary>
    public ulong To { get; init; }

    /// <summary>Sender's current term (every RPC carries it, paper Figure 2).</summary>
    public ulong Term { get; init; }

    /// <summary>
    /// Append: term of the entry at <see cref="Index"/> (prevLogTerm). Vote/PreVote: term of the last entry.
    /// Rejected AppendResponse: the follower's term at the conflict (0 if its log is too short).
    /// </summary>
    public ulong LogTerm { get; init; }

    /// <summary>Append: prevLogIndex. Vote: last log index. AppendResponse: last matching index, or the rejected prevLogIndex.</summary>
    public ulong Index { get; init; }

    /// <summary>
    /// Append: the entries to store after <see cref="Index"/>. In messages from <see cref="Ready.Messages"/>
    /// this may be a slice of a buffer the core reuses after <c>RaftNode.Advance</c>: a host that keeps a
    /// message longer (a queue, a simulated network) copies it first.
    /// </summary>
    public ReadOnlyMemory<Entry> Entries { get; init; }

    /// <summary>Append/Heartbeat: the leader's commit index.</summary>
    public ulong Commit { get; init; }

    /// <summary>Response: the request was refused.</summary>
    public bool Reject { get; init; }

    /// <summary>
    /// Rejected AppendResponse: the follower's first index of the conflicting term, or its last index + 1
    /// when its log is too short (the fast backtracking of paper §5.3).
    /// </summary>
    public ulong RejectHint { get; init; }

    /// <summary>Vote/PreVote/TimeoutNow: the election is a leadership transfer, so leases do not apply (thesis §4.2.3).</summary>
    public bool Transfer { get; init; }

    /// <summary>Heartbeat, HeartbeatResponse, ReadIndex, ReadIndexResponse: the read's context.</summary>
    public ReadOnlyMemory<byte> Context { get; init; }

    /// <summary>Snapshot: metadata of the snapshot to install.</summary>
    public SnapshotMetadata? Snapshot { get; init; }

    /// <summary>True for responses, which must be sent only after the Ready that made them is persisted.</summary>
    public bool IsResponse => Type is MessageType.AppendResponse or MessageType.VoteResponse
        or MessageType.PreVoteResponse or MessageType.HeartbeatResponse or MessageType.ReadIndexResponse;

    /// <inheritdoc />
    public override string ToString() =>
        $"{Type} {From}->{To} t{Term} i{Index} lt{LogTerm} c{Commit}" +
        (Entries.Length > 0 ? $" n{Entries.Length}" : "") + (Reject ? $" REJECT hint {RejectHint}" : "");
}
