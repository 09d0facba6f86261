using Kvorum.Raft.Tests.Simulation;
using Xunit.Abstractions;

namespace Kvorum.Raft.Tests;

/// <summary>
/// Randomized exploration: many seeds, each a few thousand steps of random faults (drops, duplicates,
/// long delays, partitions, one-way cuts, crashes that lose what was not fsynced, restarts, snapshots) with
/// client writes and reads, every invariant checked at every step; then the faults stop and a leader and a
/// commit must follow. Each seed picks a cluster shape (<see cref="Shape"/>): 3, 5 or 7 voters; one voter;
/// voters with learners; or one voter grown to three through learners.
/// <c>KVORUM_SIM_SEEDS</c> sets the number of seeds (default 500), <c>KVORUM_SIM_SEED</c> replays one.
/// </summary>
public class RandomizedExplorationTests(ITestOutputHelper output)
{
    /// <summary>The cluster a seed explores.</summary>
    internal enum Shape
    {
        /// <summary>3, 5 or 7 voters.</summary>
        Voters,

        /// <summary>One voter: it commits and answers reads alone, so nothing but its own disk vouches for its commit index.</summary>
        SingleVoter,

        /// <summary>1, 3 or 5 voters and one or two learners from the start.</summary>
        WithLearners,

        /// <summary>One voter and two spare servers, added as learners, caught up, then promoted (thesis §4.2.1).</summary>
        GrowFromOne,
    }

    internal static string ReplayCommand(int seed) =>
        $"KVORUM_SIM_SEED={seed} dotnet test tests/Kvorum.Raft.Tests --filter \"FullyQualifiedName~RandomizedExploration\"";

    private static int SeedCount() =>
        int.TryParse(Environment.GetEnvironmentVariable("KVORUM_SIM_SEEDS"), out var n) && n > 0 ? n : 500;

    private static IEnumerable<int> Seeds(int salt)
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("KVORUM_SIM_SEED"), out var one))
            return [one];
        return Enumerable.Range(0, SeedCount()).Select(i => salt * 1_000_000 + i);
    }

    [Fact]
    public void In_randomized_exploration_all_invariants_hold()
    {
        long checks = 0, acked = 0, reads = 0, elections = 0, confChanges = 0, lostWrites = 0, lostCommits = 0;
        var byShape = new Dictionary<Shape, int>();
        var timeByShape = new Dictionary<Shape, double>();
        var grown = 0;
        var seeds = Seeds(salt: 0).ToArray();
        var started = System.Diagnostics.Stopwatch.StartNew();
        foreach (var seed in seeds)
        {
            var t0 = started.Elapsed.TotalSeconds;
            var (c, shape) = RunSeed(seed);
            timeByShape[shape] = timeByShape.GetValueOrDefault(shape) + started.Elapsed.TotalSeconds - t0;
            checks += c.Checker.Checks;
            acked += c.Acked.Count;
            reads += c.ReadsServed;
            elections += c.Checker.Elections;
            confChanges += c.ConfChangesAccepted;
            foreach (var disk in c.Nodes.Values.Select(n => n.Storage).OfType<SimStorage>())
            {
                lostWrites += disk.LostWrites;
                lostCommits += disk.LostCommitOnlyWrites;
            }
            byShape[shape] = byShape.GetValueOrDefault(shape) + 1;
            if (shape == Shape.GrowFromOne && c.Checker.MaxVoters >= 3)
                grown++;
        }
        output.WriteLine($"{seeds.Length} seeds in {started.Elapsed.TotalSeconds:F1} s ({string.Join(", ", byShape.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key} {kv.Value} in {timeByShape[kv.Key]:F1} s"))}): "
            + $"{checks} invariant checks, {acked} writes acknowledged, {reads} reads, {elections} elections, {confChanges} membership changes, "
            + $"{grown} clusters grown from one voter to three, crashes lost {lostWrites} queued writes ({lostCommits} of them a commit index alone)");
        Assert.True(acked > seeds.Length, "the workload made progress");
        if (seeds.Length >= 50)
        {
            // Every shape ran, and the parts of the model that find bugs were exercised.
            Assert.Equal(4, byShape.Count);
            Assert.True(confChanges > 0, "the exploration changed membership");
            Assert.True(grown > 0, "some cluster grew from one voter to three");
            Assert.True(lostCommits > 0, "some crash lost a commit index that was not yet durable");
        }
    }

    /// <summary>Runs one seed; throws with the seed and the replay command on any violation.</summary>
    internal static (SimCluster Cluster, Shape Shape) RunSeed(int seed)
    {
        var rng = new Random(seed);
        var shape = rng.Next(8) switch
        {
            < 3 => Shape.Voters,
            3 => Shape.SingleVoter,
            < 6 => Shape.WithLearners,
            _ => Shape.GrowFromOne,
        };
        var (voters, learners) = shape switch
        {
            Shape.Voters => (rng.Next(3) switch { 0 => 3, 1 => 5, _ => 7 }, 0),
            Shape.WithLearners => (rng.Next(3) switch { 0 => 1, 1 => 3, _ => 5 }, rng.Next(1, 3)),
            _ => (1, 0),
        };
        var options = new SimOptions
        {
            PreVote = rng.Next(4) != 0,
            CheckQuorum = rng.Next(4) != 0,
            SnapshotEvery = rng.Next(3) == 0 ? 0UL : (ulong)rng.Next(5, 50),
            MaxSizePerMsg = rng.Next(2) == 0 ? 0 : 4096,
            MaxInflightMsgs = rng.Next(1, 8),
            Replay = ReplayCommand,
        };
        options = options with
        {
            ReadOnlyOption = options.CheckQuorum && rng.Next(4) == 0 ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
            // Half the seeds: leaders write to their disk after sending and applying (thesis §10.2.1).
            LeaderWritesLater = rng.Next(2) == 0,
            // Half the seeds: the host drains a time unit's events before it processes the Ready, as the server does.
            BatchedHost = rng.Next(2) == 0,
        };
        var c = new SimCluster(seed, voters, options, learners);
        try
        {
            if (shape == Shape.GrowFromOne)
            {
                // Spare servers start empty and wait to be added (thesis §4.2.1).
                c.AddNode(2, ConfState.Empty);
                c.AddNode(3, ConfState.Empty);
            }
            Explore(c, rng, shape, steps: 3000);
            c.HealAndCheckLiveness();
            return (c, shape);
        }
        catch (Exception e) when (e is not InvariantViolationException)
        {
            throw new InvariantViolationException($"seed {seed} threw {e}\n{c.Describe()}");
        }
    }

    private static void Explore(SimCluster c, Random rng, Shape shape, int steps)
    {
        var membership = shape == Shape.GrowFromOne || rng.Next(3) == 0;
        // Only the large clusters keep three voters; the others may shrink to one, never to none.
        var minVoters = shape == Shape.Voters ? 3 : 1;
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
                    RandomConfChange(c, rng, ids, minVoters);
                    break;
                case 38 or 39 when shape == Shape.GrowFromOne:
                    Grow(c);
                    break;
            }
            c.RunFor(rng.Next(1, 6));
        }
    }

    /// <summary>
    /// The next step of growing to three voters: add the first spare not yet a member as a learner; promote a learner
    /// once the leader sees it caught up (within a few entries of the commit index), never before.
    /// </summary>
    private static void Grow(SimCluster c)
    {
        var leader = c.Leader();
        if (leader == 0)
            return;
        var status = c.Nodes[leader].Raft!.Status;
        foreach (var id in new ulong[] { 2, 3 })
        {
            if (!status.Config.Contains(id))
            {
                c.ProposeConfChange(new ConfChange(ConfChangeType.AddLearner, id));
                return;
            }
            if (status.Config.IsLearner(id))
            {
                if (status.Progress.TryGetValue(id, out var p) && p.Match + 5 >= status.Commit)
                    c.ProposeConfChange(new ConfChange(ConfChangeType.AddVoter, id));
                return;
            }
        }
    }

    /// <summary>
    /// Removes a server (keeping at least <paramref name="minVoters"/> voters: the core refuses to remove the last
    /// voter), adds a removed server back as a learner, or promotes a learner.
    /// </summary>
    private static void RandomConfChange(SimCluster c, Random rng, ulong[] ids, int minVoters)
    {
        var leader = c.Leader();
        if (leader == 0)
            return;
        var conf = c.Nodes[leader].Raft!.Status.Config;
        var id = ids[rng.Next(ids.Length)];
        ConfChange change;
        if (conf.IsLearner(id))
            change = rng.Next(3) == 0 ? new ConfChange(ConfChangeType.RemoveNode, id) : new ConfChange(ConfChangeType.AddVoter, id);
        else if (!conf.Contains(id))
            change = new ConfChange(ConfChangeType.AddLearner, id);
        else if (conf.Voters.Length > minVoters)
            change = new ConfChange(ConfChangeType.RemoveNode, id);
        else
            return;
        c.ProposeConfChange(change);
    }

    private static void RandomPartition(SimCluster c, Random rng, ulong[] ids)
    {
        if (ids.Length < 2)
            return;
        var shuffled = ids.OrderBy(_ => rng.Next()).ToArray();
        var cut = rng.Next(1, ids.Length);
        c.Partition(shuffled[..cut], shuffled[cut..]);
    }
}
