namespace Kvorum.Lab.Scenarios;

/// <summary>Every scenario, by name.</summary>
internal static class ScenarioCatalog
{
    /// <summary>The scenarios in the order <c>--list</c> shows them.</summary>
    public static IReadOnlyList<IScenario> All { get; } =
    [
        new LeaderIsolationScenario(),
        new MinorityPartitionScenario(),
        new NoMajorityScenario(),
        new AsymmetricLinkScenario(),
        new FlappingScenario(),
        new RollingRestartScenario(),
        new KillLeaderLoopScenario(),
        new ElectionTimingScenario(),
        new BackupRestoreScenario(),
        new LockUnderPartitionScenario(),
        new SlowOrDeadScenario(),
        new QuorumIntersectionScenario(),
        new CapChoiceScenario(),
        new SplitVoteScenario(),
    ];

    /// <summary>The scenario called <paramref name="name"/>.</summary>
    /// <param name="name">Its name.</param>
    /// <exception cref="LabException">No scenario has that name.</exception>
    public static IScenario Find(string name) =>
        All.FirstOrDefault(s => s.Name == name)
        ?? throw new LabException($"no scenario '{name}'; the scenarios are: {string.Join(", ", All.Select(s => s.Name))}");
}
