using Kvorum.Raft.Tests.Simulation;

namespace Kvorum.Raft.Tests;

/// <summary>Log replication and commitment scenarios (paper §5.3, §5.4).</summary>
public class ReplicationScenarioTests
{
    [Fact]
    public void Basic_agreement_every_server_applies_every_write()
    {
        var c = new SimCluster(seed: 10, 5);
        c.WaitForLeader();
        for (var i = 0; i < 10; i++)
        {
            var op = c.Propose();
            Assert.True(op > 0);
            Assert.True(c.WaitAcked(op), $"write {i} not acknowledged");
        }
        c.RunFor(200);
        var applied = c.Nodes.Values.Select(n => (n.AppliedIndex, n.AppliedHash)).Distinct().ToArray();
        Assert.Single(applied);
        Assert.Equal(10, c.Nodes.Values.First().AppliedCommands);
    }

    [Fact]
    public void A_leader_writing_later_counts_its_own_entries_only_once_they_are_durable()
    {
        // Thesis §10.2.1: the leader replicates while its own write runs, but its copy counts toward a quorum
        // only once durable. With one of two followers cut off, the other's acknowledgement is not enough.
        var c = new SimCluster(seed: 13, 3, new SimOptions { LeaderWritesLater = true, MinWriteDelay = 400, MaxWriteDelay = 400 });
        var leader = c.WaitForLeader(maxUnits: 10_000);
        Assert.True(c.WaitAcked(c.Propose(), maxUnits: 5000));
        var others = c.Nodes.Keys.Where(i => i != leader).ToArray();
        c.Disconnect(others[1]);
        var committedBefore = c.Nodes[leader].Raft!.Committed;
        var op = c.Propose(leader);
        Assert.True(op > 0);
        // Follower 0 has the entry and has acknowledged it well before the leader's write lands.
        c.RunFor(300);
        Assert.True(c.Nodes[others[0]].Storage.LastIndex > committedBefore, "the follower did not get the entry");
        Assert.Equal(committedBefore, c.Nodes[leader].Raft!.Committed);
        Assert.False(c.Acked.ContainsKey(op), "acknowledged before the leader's own copy was durable");
        // Then the leader's write lands and the entry commits.
        Assert.True(c.WaitAcked(op, maxUnits: 1000), "not committed once the leader's write was durable");
        Assert.True(c.Nodes[leader].Raft!.Committed > committedBefore);
    }

    [Fact]
    public void Agreement_despite_a_disconnected_follower()
    {
        var c = new SimCluster(seed: 11, 3);
        var leader = c.WaitForLeader();
        var follower = c.Nodes.Keys.First(i => i != leader);
        c.Disconnect(follower);
        for (var i = 0; i < 5; i++)
            Assert.True(c.WaitAcked(c.Propose()));
        c.Reconnect(follower);
        for (var i = 0; i < 5; i++)
            Assert.True(c.WaitAcked(c.Propose()));
        c.RunUntil(() => c.Nodes[follower].AppliedCommands == 10, 2000);
        Assert.Equal(10, c.Nodes[follower].AppliedCommands);
    }

    [Fact]
    public void No_agreement_without_a_majority_then_agreement_after_reconnect()
    {
        var c = new SimCluster(seed: 12, 5);
        var leader = c.WaitForLeader();
        Assert.True(c.WaitAcked(c.Propose()));
        var others = c.Nodes.Keys.Where(i => i != leader).ToArray();
        c.RunFor(100);
        var committedBefore = c.Checker.MaxCommitted;
        c.Disconnect(others[0]);
        c.Disconnect(others[1]);
        c.Disconnect(others[2]);
        var op = c.Propose(leader);
        Assert.True(op > 0);
        c.RunFor(3000);
        Assert.False(c.Acked.ContainsKey(op), "committed without a majority");
        Assert.Equal(committedBefore, c.Checker.MaxCommitted);
        c.Heal();
        c.WaitForLeader();
        var op2 = c.Propose();
        Assert.True(c.WaitAcked(op2));
    }

    [Fact]
    public void A_proposal_on_a_follower_is_forwarded_to_the_leader_and_commits()
    {
        var c = new SimCluster(seed: 20, 3);
        var leader = c.WaitForLeader();
        c.RunFor(100);
        var follower = c.Nodes.Keys.First(i => i != leader);
        var before = c.Nodes[follower].AppliedCommands;
        var r = c.Nodes[follower].Raft!.Propose(new byte[16]);
        Assert.Equal(ProposeStatus.Forwarded, r.Status);
        Assert.Equal(leader, r.Leader);
        c.RunFor(500);
        Assert.Equal(before + 1, c.Nodes[follower].AppliedCommands);
        Assert.Equal(before + 1, c.Nodes[leader].AppliedCommands);
    }

    [Fact]
    public void Concurrent_proposals_all_commit_in_one_order()
    {
        var c = new SimCluster(seed: 13, 3);
        c.WaitForLeader();
        var ops = new List<long>();
        for (var i = 0; i < 200; i++)
            ops.Add(c.Propose());
        Assert.All(ops, op => Assert.True(op > 0));
        c.RunUntil(() => ops.All(c.Acked.ContainsKey), 5000);
        Assert.All(ops, op => Assert.True(c.Acked.ContainsKey(op)));
        Assert.Equal(ops.Count, ops.Select(op => c.Acked[op].Index).Distinct().Count());
        // Batching: far fewer Append messages than entries × followers.
        Assert.True(c.Network.SentByType[MessageType.Append] < 200, $"{c.Network.SentByType[MessageType.Append]} appends for 200 entries");
    }

    [Fact]
    public void A_rejoining_old_leader_with_divergent_entries_is_repaired()
    {
        var c = new SimCluster(seed: 14, 3);
        var old = c.WaitForLeader();
        Assert.True(c.WaitAcked(c.Propose()));
        c.Disconnect(old);
        // Entries the old leader appends alone will never commit.
        for (var i = 0; i < 3; i++)
            c.Propose(old);
        c.RunUntil(() => c.Leader() != 0 && c.Leader() != old, 5000);
        for (var i = 0; i < 3; i++)
            Assert.True(c.WaitAcked(c.Propose()));
        c.Reconnect(old);
        c.RunFor(2000);
        var applied = c.Nodes.Values.Select(n => (n.AppliedIndex, n.AppliedHash)).Distinct().ToArray();
        Assert.Single(applied);
        Assert.Equal(4, c.Nodes[old].AppliedCommands);
        Assert.Equal(3, c.FailedOps.Count);
    }

    [Fact]
    public void Fast_backup_of_long_divergent_logs_takes_few_messages()
    {
        // Paper §5.3 (end): with the conflicting term and its first index, the leader skips a whole
        // term per round trip instead of one entry.
        var c = new SimCluster(seed: 15, 5, new SimOptions { MaxSizePerMsg = 1 << 20 });
        var leader1 = c.WaitForLeader();
        Assert.True(c.WaitAcked(c.Propose()));
        var others = c.Nodes.Keys.Where(i => i != leader1).ToArray();
        // Leader 1 and one follower are cut off and pile up 60 uncommittable entries.
        c.Partition([leader1, others[0]], [others[1], others[2], others[3]]);
        for (var i = 0; i < 60; i++)
            c.Propose(leader1);
        c.RunFor(100);
        // The majority elects a new leader and commits 60 entries of a newer term.
        c.RunUntil(() => c.Leader() != 0 && c.Leader() != leader1, 5000);
        for (var i = 0; i < 60; i++)
            c.Propose();
        c.RunUntil(() => c.Acked.Count >= 61, 5000);
        var appendsBefore = c.Network.SentByType.GetValueOrDefault(MessageType.Append);
        c.Heal();
        c.RunUntil(() => c.Nodes[leader1].AppliedCommands == 61 && c.Nodes[others[0]].AppliedCommands == 61, 3000);
        Assert.Equal(61, c.Nodes[leader1].AppliedCommands);
        Assert.Equal(61, c.Nodes[others[0]].AppliedCommands);
        var appends = c.Network.SentByType[MessageType.Append] - appendsBefore;
        // Heartbeat-driven probes included, repair must not take one message per divergent entry.
        Assert.True(appends < 40, $"repair took {appends} Append messages for 60 divergent entries");
    }

    [Fact]
    public void Persistence_across_whole_cluster_restarts()
    {
        var c = new SimCluster(seed: 16, 3);
        c.WaitForLeader();
        for (var round = 0; round < 5; round++)
        {
            for (var i = 0; i < 5; i++)
                Assert.True(c.WaitAcked(c.Propose()));
            foreach (var id in c.Nodes.Keys)
                c.Crash(id);
            foreach (var id in c.Nodes.Keys)
                c.Restart(id);
            c.WaitForLeader();
        }
        Assert.True(c.WaitAcked(c.Propose()));
        c.RunFor(500);
        Assert.All(c.Nodes.Values, n => Assert.Equal(26, n.AppliedCommands));
    }

    [Fact]
    public void Figure_8_a_leader_does_not_commit_old_term_entries_by_counting()
    {
        // Paper Figure 8 in the simulator: leaders crash right after appending, repeatedly; an entry from
        // an old term replicated to a majority must not be reported committed and then lost.
        var c = new SimCluster(seed: 17, 5);
        c.WaitForLeader();
        for (var iter = 0; iter < 200; iter++)
        {
            var leader = c.Leader();
            if (leader != 0)
            {
                c.Propose(leader);
                if (c.Rng.Next(3) == 0)
                {
                    c.RunFor(c.Rng.Next(1, 30));
                    c.Crash(leader);
                }
            }
            c.RunFor(c.Rng.Next(1, 100));
            if (c.Nodes.Values.Count(n => !n.IsUp) >= 2)
            {
                var down = c.Nodes.Values.Where(n => !n.IsUp).ToArray();
                c.Restart(down[c.Rng.Next(down.Length)].Id);
            }
        }
        c.HealAndCheckLiveness();
        foreach (var (op, (index, _)) in c.Acked)
            Assert.True(c.Nodes.Values.All(n => n.AppliedIndex >= index));
    }

    [Fact]
    public void Unreliable_network_with_drops_and_long_reordering()
    {
        var c = new SimCluster(seed: 18, 5);
        c.Network.DropRate = 0.25;
        c.Network.DuplicateRate = 0.05;
        c.Network.LongDelay = 200;
        for (var i = 0; i < 300; i++)
        {
            c.Propose();
            c.RunFor(20);
        }
        c.HealAndCheckLiveness();
        Assert.True(c.Acked.Count > 50, $"only {c.Acked.Count} writes acknowledged on a lossy network");
    }

    [Fact]
    public void Churn_random_crashes_and_restarts_while_clients_propose()
    {
        var c = new SimCluster(seed: 19, 5);
        for (var i = 0; i < 400; i++)
        {
            c.Propose();
            if (c.Rng.Next(20) == 0)
            {
                var id = (ulong)c.Rng.Next(1, 6);
                if (c.Nodes[id].IsUp)
                    c.Crash(id);
                else
                    c.Restart(id);
            }
            c.RunFor(c.Rng.Next(1, 40));
        }
        c.HealAndCheckLiveness();
        Assert.True(c.Acked.Count > 50, $"only {c.Acked.Count} writes acknowledged under churn");
    }
}
