using Kvorum.Raft.Tests.Simulation;
using Xunit.Abstractions;

namespace Kvorum.Raft.Tests;

/// <summary>
/// Randomized exploration: many seeds, each a few thousand steps of random faults (drops, duplicates,
/// long delays, partitions, one-way cuts, crashes, restarts, snapshots) with client writes and reads,
/// every invariant checked at every step; then the faults stop and a leader and a commit must follow.
/// <c>KVORUM_SIM_SEEDS</c> sets the number of seeds (default 500), <c>KVORUM_SIM_SEED</c> replays one.
/// </summary>
public class RandomizedExplorationTests(ITestOutputHelper output)
{
    private static int SeedCount() =>
        int.TryParse(Environment.GetEnvironmentVariable("KVORUM_SIM_SEEDS"), out var n) && n > 0 ? n : 500;

    private static IEnumerable<int> Seeds(int salt)
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("KVORUM_SIM_SEED"), out var one))
            return [one];
        return Enumerable.Range(0, SeedCount()).Select(i => salt * 1_000_000 + i);
    }

    [Fact]
    public void RandomizedExploration_AllInvariantsHold()
    {
        long checks = 0, acked = 0, reads = 0, elections = 0, confChanges = 0;
        var seeds = Seeds(salt: 0).ToArray();
        foreach (var seed in seeds)
        {
            var c = RunSeed(seed);
            checks += c.Checker.Checks;
            acked += c.Acked.Count;
            reads += c.ReadsServed;
            elections += c.Checker.Elections;
            confChanges += c.ConfChangesAccepted;
        }
        output.WriteLine($"{seeds.Length} seeds: {checks} invariant checks, {acked} writes acknowledged, {reads} reads, {elections} elections, {confChanges} membership changes");
        Assert.True(acked > seeds.Length, "the workload made progress");
        if (seeds.Length >= 50)
            Assert.True(confChanges > 0, "the exploration changed membership");
    }

    /// <summary>Runs one seed; throws with the seed and the replay command on any violation.</summary>
    internal static SimCluster RunSeed(int seed)
    {
        var rng = new Random(seed);
        var size = rng.Next(3) switch { 0 => 3, 1 => 5, _ => 7 };
        var options = new SimOptions
        {
            PreVote = rng.Next(4) != 0,
            CheckQuorum = rng.Next(4) != 0,
            SnapshotEvery = rng.Next(3) == 0 ? 0UL : (ulong)rng.Next(5, 50),
            MaxSizePerMsg = rng.Next(2) == 0 ? 0 : 4096,
            MaxInflightMsgs = rng.Next(1, 8),
        };
        options = options with
        {
            ReadOnlyOption = options.CheckQuorum && rng.Next(4) == 0 ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
            // Half the seeds: leaders write to their disk after sending and applying (thesis §10.2.1).
            LeaderWritesLater = rng.Next(2) == 0,
        };
        var c = new SimCluster(seed, size, options);
        try
        {
            Explore(c, rng, steps: 3000);
            c.HealAndCheckLiveness();
            return c;
        }
        catch (Exception e) when (e is not InvariantViolationException)
        {
            throw new InvariantViolationException($"seed {seed} threw {e}\n{c.Describe()}");
        }
    }

    private static void Explore(SimCluster c, Random rng, int steps)
    {
        var membership = rng.Next(3) == 0;
        var ids = c.Nodes.Keys.ToArray();
        for (var step = 0; step < steps; step++)
        {
            switch (rng.Next(100))
            {
                case < 20:
                    c.Propose();
                    break;
                case < 25:
                    c.Propose(ids[rng.Next(ids.Length)]);
                    break;
                case < 30:
                    c.Read(ids[rng.Next(ids.Length)]);
                    break;
                case 30 when rng.Next(4) == 0:
                    c.Crash(ids[rng.Next(ids.Length)]);
                    break;
                case 31:
                    c.Restart(ids[rng.Next(ids.Length)]);
                    break;
                case 32 when rng.Next(3) == 0:
                    RandomPartition(c, rng, ids);
                    break;
                case 33 when rng.Next(3) == 0:
                    c.CutOneWay(ids[rng.Next(ids.Length)], ids[rng.Next(ids.Length)]);
                    break;
                case 34:
                    c.Heal();
                    break;
                case 35 when rng.Next(5) == 0:
                    c.Network.DropRate = rng.Next(3) == 0 ? 0.2 : 0;
                    c.Network.DuplicateRate = rng.Next(3) == 0 ? 0.1 : 0;
                    c.Network.LongDelay = rng.Next(3) == 0 ? 100 : 0;
                    break;
                case 36 when rng.Next(10) == 0:
                    c.TransferLeadership(ids[rng.Next(ids.Length)]);
                    break;
                case 37 when membership && rng.Next(5) == 0:
                    RandomConfChange(c, rng, ids);
                    break;
            }
            c.RunFor(rng.Next(1, 6));
        }
    }

    /// <summary>Removes a voter (keeping at least three), adds a removed server back as a learner, or promotes a learner.</summary>
    private static void RandomConfChange(SimCluster c, Random rng, ulong[] ids)
    {
        var leader = c.Leader();
        if (leader == 0)
            return;
        var conf = c.Nodes[leader].Raft!.Status.Config;
        var id = ids[rng.Next(ids.Length)];
        ConfChange change;
        if (conf.IsLearner(id))
            change = new ConfChange(ConfChangeType.AddVoter, id);
        else if (!conf.Contains(id))
            change = new ConfChange(ConfChangeType.AddLearner, id);
        else if (conf.Voters.Length > 3)
            change = new ConfChange(ConfChangeType.RemoveNode, id);
        else
            return;
        c.ProposeConfChange(change);
    }

    private static void RandomPartition(SimCluster c, Random rng, ulong[] ids)
    {
        var shuffled = ids.OrderBy(_ => rng.Next()).ToArray();
        var cut = rng.Next(1, ids.Length);
        c.Partition(shuffled[..cut], shuffled[cut..]);
    }
}
