namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// Tests that measure how fast a cluster recovers (failover within 3 s, a read failing within 4 s), or that run
/// with short election timeouts and wait for elections (membership changes that remove the leader), run in
/// this collection: after every other test of the assembly and alone, so the clusters that those start on the
/// same 2 cores do not stretch the elections being timed.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TimingSensitive
{
    public const string Name = "timing-sensitive";
}
