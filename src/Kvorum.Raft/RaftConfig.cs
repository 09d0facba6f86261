namespace Kvorum.Raft;

/// <summary>How a leader answers ReadIndex requests (thesis §6.4).</summary>
public enum ReadOnlyOption : byte
{
    /// <summary>
    /// Confirm leadership with a round of heartbeats to a quorum before answering (thesis §6.4).
    /// Safe whatever the clocks do.
    /// </summary>
    Safe,

    /// <summary>
    /// Answer from the leader's lease without a heartbeat round (thesis §6.4.1). Correct only if clocks
    /// drift by less than the election timeout; allowed only together with <see cref="RaftConfig.CheckQuorum"/>.
    /// </summary>
    LeaseBased,
}

/// <summary>Settings of one <see cref="RaftNode"/>. Ticks are the host's unit of time.</summary>
public sealed class RaftConfig
{
    /// <summary>This server's id; never 0.</summary>
    public required ulong Id { get; init; }

    /// <summary>The server's persisted state; read-only to the core.</summary>
    public required IRaftStorage Storage { get; init; }

    /// <summary>
    /// Seeded source of the randomized election timeouts (paper §5.2). The core draws nothing else
    /// from it, so a cluster run with fixed seeds is reproducible.
    /// </summary>
    public required Random Random { get; init; }

    /// <summary>
    /// Ticks a follower waits without hearing from a leader before it starts an election; the actual
    /// timeout is drawn uniformly from [ElectionTick + 1, 2 × ElectionTick] (paper §5.2; one tick above the pre-vote
    /// lease, see Raft.ResetRandomizedElectionTimeout). Also the leader's
    /// CheckQuorum period and the leadership-transfer deadline. Must exceed <see cref="HeartbeatTick"/>;
    /// the thesis (§9.3) suggests 10× the broadcast time or more.
    /// </summary>
    public int ElectionTick { get; init; } = 10;

    /// <summary>
    /// Draw each election timeout at random (paper §5.2); on by default. Off, every timeout is ElectionTick + 1 ticks,
    /// the bottom of the range, so that members that heard the leader's last message together time out together and
    /// may split the vote term after term. Only for the lab's split-vote scenario, which shows why Raft randomizes;
    /// a real cluster should never turn it off.
    /// </summary>
    public bool RandomizedElectionTimeout { get; init; } = true;

    /// <summary>Ticks between leader heartbeats. 1 is usual; larger values save messages and slow failure detection.</summary>
    public int HeartbeatTick { get; init; } = 1;

    /// <summary>
    /// Highest index the host's state machine had applied before this start (0: the snapshot's index).
    /// Committed entries after it are handed out again.
    /// </summary>
    public ulong Applied { get; init; }

    /// <summary>
    /// Upper bound in bytes of one Append's entries (thesis §10.2.1 batching). Small values mean more
    /// messages; 0 sends one entry per message; a message always carries at least one entry.
    /// </summary>
    public long MaxSizePerMsg { get; init; } = 1024 * 1024;

    /// <summary>
    /// Most Append messages in flight to one follower in the replicate state (pipelining, thesis §10.2.1).
    /// 1 disables pipelining.
    /// </summary>
    public int MaxInflightMsgs { get; init; } = 256;

    /// <summary>Most entry bytes in flight to one follower; 0 means no byte limit.</summary>
    public long MaxInflightBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Upper bound in bytes of the committed entries one <see cref="Ready"/> hands out for applying.</summary>
    public long MaxCommittedSizePerReady { get; init; } = 8L * 1024 * 1024;

    /// <summary>Run a PreVote round before incrementing the term (thesis §9.6). On by default.</summary>
    public bool PreVote { get; init; } = true;

    /// <summary>
    /// A leader steps down if it has not heard from a quorum within an election timeout, and followers
    /// that heard from a leader within the election timeout ignore vote requests (thesis §6.2, §4.2.3).
    /// On by default.
    /// </summary>
    public bool CheckQuorum { get; init; } = true;

    /// <summary>How the leader serves ReadIndex. <see cref="ReadOnlyOption.LeaseBased"/> needs <see cref="CheckQuorum"/>.</summary>
    public ReadOnlyOption ReadOnlyOption { get; init; } = ReadOnlyOption.Safe;

    /// <summary>Throws if the settings contradict each other.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        if (Id == 0)
            throw new ArgumentException("id 0 is reserved for 'none'");
        ArgumentNullException.ThrowIfNull(Storage);
        ArgumentNullException.ThrowIfNull(Random);
        if (HeartbeatTick <= 0)
            throw new ArgumentException("heartbeat tick must be greater than 0");
        if (ElectionTick <= HeartbeatTick)
            throw new ArgumentException("election tick must be greater than heartbeat tick");
        if (MaxInflightMsgs <= 0)
            throw new ArgumentException("max inflight messages must be greater than 0");
        if (MaxInflightBytes < 0 || MaxSizePerMsg < 0)
            throw new ArgumentException("byte limits must not be negative");
        if (ReadOnlyOption == ReadOnlyOption.LeaseBased && !CheckQuorum)
            throw new ArgumentException("lease-based reads require CheckQuorum (thesis §6.4.1)");
    }
}
