namespace Kvorum.Lab.Scenarios;

/// <summary>How to run a scenario.</summary>
internal sealed record ScenarioOptions
{
    /// <summary>Lab directory, prefix, subnet and server command; its node count and flags are set per scenario.</summary>
    public required LabOptions Lab { get; init; }

    /// <summary>The members' election timeout (ms).</summary>
    public int ElectionTimeoutMs { get; init; } = 1000;

    /// <summary>The members' heartbeat interval (ms).</summary>
    public int HeartbeatMs { get; init; } = 100;

    /// <summary>Rounds of the looping scenarios (kill-leader-loop, election-timing); 0 for their default.</summary>
    public int Rounds { get; init; }

    /// <summary>Leave the lab up at the end.</summary>
    public bool Keep { get; init; }
}
