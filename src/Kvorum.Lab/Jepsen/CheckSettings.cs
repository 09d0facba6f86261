namespace Kvorum.Lab.Jepsen;

/// <summary>The parameters of <c>kvorum lab check</c>.</summary>
internal sealed record CheckSettings
{
    /// <summary>Lab directory, prefix, subnet, server command and node count.</summary>
    public required LabOptions Lab { get; init; }

    /// <summary>Concurrent clients.</summary>
    public int Clients { get; init; } = 10;

    /// <summary>Keys the clients share.</summary>
    public int Keys { get; init; } = 5;

    /// <summary>
    /// How long a key is used before the clients move to a fresh one (as Jepsen's independent keys do): keeps
    /// each key's history, and above all its indeterminate operations, small enough to check.
    /// </summary>
    public TimeSpan KeyLifetime { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the nemesis runs.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long clients keep going after the final heal, to show recovery.</summary>
    public TimeSpan Recovery { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Deadline of each client operation.</summary>
    public TimeSpan OperationTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Seed of the nemesis schedule and the clients' choices.</summary>
    public int Seed { get; init; } = Environment.TickCount;

    /// <summary>Where the history goes (JSON lines); default <c>history.jsonl</c> in the lab directory.</summary>
    public string? HistoryPath { get; init; }

    /// <summary>How long the linearizability checker may search.</summary>
    public TimeSpan CheckerBudget { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The kinds of fault the nemesis draws from (<see cref="Nemesis.AllKinds"/>); null for all of them, or for a lab of
    /// one member only those that need no peer (kill and pause).
    /// </summary>
    public IReadOnlyList<string>? Faults { get; init; }

    /// <summary>Run without faults (a baseline).</summary>
    public bool NoFaults { get; init; }

    /// <summary>
    /// Clients read with etcd's serializable reads (the member's local state) instead of linearizable ones:
    /// a deliberately broken client, to watch the checker catch the stale reads it produces under faults.
    /// </summary>
    public bool SerializableReads { get; init; }

    /// <summary>
    /// Watchers that watch the whole key space while the clients run (<c>--workload watch</c>), resuming on another
    /// member when their stream breaks; 0 for none (<c>--workload kv</c>). Their events are checked against the history.
    /// </summary>
    public int Watchers { get; init; }

    /// <summary>Leave the lab up at the end.</summary>
    public bool Keep { get; init; }
}
