namespace Kvorum.Raft.Tests.Simulation;

/// <summary>Settings of a simulated cluster. Time is in abstract units; a node ticks every <see cref="TickInterval"/>.</summary>
internal sealed record SimOptions
{
    public int ElectionTick { get; init; } = 10;

    public int HeartbeatTick { get; init; } = 1;

    public int TickInterval { get; init; } = 10;

    public bool PreVote { get; init; } = true;

    public bool CheckQuorum { get; init; } = true;

    public ReadOnlyOption ReadOnlyOption { get; init; } = ReadOnlyOption.Safe;

    /// <summary>Take a snapshot and compact the log every this many applied entries; 0 never.</summary>
    public ulong SnapshotEvery { get; init; }

    public long MaxSizePerMsg { get; init; } = 64 * 1024;

    public int MaxInflightMsgs { get; init; } = 16;

    /// <summary>
    /// A leader issues its writes and goes on (<see cref="RaftNode.AdvanceBeforePersisted"/>); each write lands
    /// on its disk <see cref="MinWriteDelay"/> to <see cref="MaxWriteDelay"/> units later, in order, and a crash before that loses it.
    /// Needs the simulated disk (<see cref="SimStorage"/>), not a <see cref="StorageFactory"/>.
    /// </summary>
    public bool LeaderWritesLater { get; init; }

    /// <summary>
    /// The host drains every event of a time unit (messages, landed writes, ticks, then client requests) before it
    /// processes the Ready, as the server's loop drains its inbox before ProcessReady; otherwise it processes a Ready
    /// after each event. Batching lets a request reach the core before the Ready of the event before it is done:
    /// a read taken in the same batch as the tick that elects a leader sees it before its first entry is written.
    /// </summary>
    public bool BatchedHost { get; init; }

    /// <summary>Shortest time a leader's write takes to become durable when <see cref="LeaderWritesLater"/>.</summary>
    public int MinWriteDelay { get; init; } = 1;

    /// <summary>Longest time a leader's write takes to become durable when <see cref="LeaderWritesLater"/>.</summary>
    public int MaxWriteDelay { get; init; } = 30;

    /// <summary>The command that replays a seed, printed with every violation; null for a test whose seed is fixed.</summary>
    public Func<int, string>? Replay { get; init; }

    /// <summary>Opens a node's storage; called again on restart and must return what was persisted.</summary>
    public Func<ulong, ConfState, IRaftLogStore>? StorageFactory { get; init; }
}
