using Kvorum.Raft.Tests.Simulation;

namespace Kvorum.Raft.Tests;

/// <summary>Leader election scenarios in the manner of the well-known Raft lab suites (paper §5.2).</summary>
public class ElectionScenarioTests
{
    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    public void The_initial_election_elects_one_leader_and_keeps_it(int n)
    {
        var c = new SimCluster(seed: 1, n);
        var leader = c.WaitForLeader();
        var term = c.Nodes[leader].Storage.HardState.Term;
        // With no faults the leader stays and the term does not move.
        c.RunFor(5000);
        Assert.Equal(leader, c.Leader());
        Assert.Equal(term, c.Nodes[leader].Storage.HardState.Term);
        Assert.Equal(1, c.LeaderCount());
        // Everyone agrees on the leader.
        Assert.All(c.Nodes.Values, node => Assert.Equal(leader, node.Soft.Lead));
    }

    [Fact]
    public void Re_election_after_a_leader_failure()
    {
        var c = new SimCluster(seed: 2, 3);
        var first = c.WaitForLeader();
        c.Disconnect(first);
        c.RunUntil(() => c.Leader() != first && c.Leader() != 0, 5000);
        var second = c.Leader();
        Assert.NotEqual(first, second);
        Assert.NotEqual(0UL, second);

        // The old leader rejoins: it must not disturb the new leader's term ... it steps down.
        c.Reconnect(first);
        c.RunFor(2000);
        Assert.Equal(1, c.LeaderCount());

        // No quorum: no leader.
        var leader = c.Leader();
        var others = c.Nodes.Keys.Where(i => i != leader).ToArray();
        c.Disconnect(leader);
        c.Disconnect(others[0]);
        c.RunFor(3000);
        Assert.Equal(0UL, c.Leader() == leader ? 0UL : c.Leader());

        // Quorum back: a leader.
        c.Reconnect(others[0]);
        Assert.NotEqual(0UL, c.WaitForLeader());
    }

    [Fact]
    public void Many_elections_under_random_disconnections()
    {
        var c = new SimCluster(seed: 3, 7);
        c.WaitForLeader();
        for (var iter = 0; iter < 10; iter++)
        {
            var a = (ulong)c.Rng.Next(1, 8);
            var b = (ulong)c.Rng.Next(1, 8);
            var d = (ulong)c.Rng.Next(1, 8);
            c.Disconnect(a);
            c.Disconnect(b);
            c.Disconnect(d);
            // Either the remaining majority elects a leader or, if fewer than four remain, nothing breaks.
            c.RunFor(2000);
            c.Heal();
        }
        c.WaitForLeader();
        Assert.True(c.Checker.Elections >= 2, $"expected several elections, saw {c.Checker.Elections}");
    }

    [Fact]
    public void With_PreVote_a_follower_cut_off_by_an_asymmetric_partition_does_not_disrupt_the_leader()
    {
        // Thesis §9.6 and §4.2.3: the leader's messages to a follower are lost, but the follower's
        // messages go out. Without PreVote and leases it would force a new term again and again.
        var c = new SimCluster(seed: 4, 3);
        var leader = c.WaitForLeader();
        var victim = c.Nodes.Keys.First(i => i != leader);
        var term = c.Nodes[leader].Storage.HardState.Term;
        c.CutOneWay(leader, victim);
        c.RunFor(10_000);
        Assert.Equal(leader, c.Leader());
        Assert.Equal(term, c.Nodes[leader].Storage.HardState.Term);
        // The cut-off follower may campaign, but only in PreVote: its term never moves.
        Assert.Equal(term, c.Nodes[victim].Storage.HardState.Term);
    }

    [Fact]
    public void Without_PreVote_and_CheckQuorum_an_asymmetric_partition_disrupts_the_leader()
    {
        // The counterpart of the test above: proof that the test can fail.
        var c = new SimCluster(seed: 4, 3, new SimOptions { PreVote = false, CheckQuorum = false });
        var leader = c.WaitForLeader();
        var victim = c.Nodes.Keys.First(i => i != leader);
        var term = c.Nodes[leader].Storage.HardState.Term;
        c.CutOneWay(leader, victim);
        c.RunFor(10_000);
        // The cut-off follower forces at least one new term and deposes the leader.
        Assert.True(c.Nodes[victim].Storage.HardState.Term > term, "a cut-off follower raises the term");
        Assert.True(c.LeaderChanges > 1, "the leader was deposed");
    }

    [Fact]
    public void With_CheckQuorum_a_partitioned_leader_steps_down()
    {
        // Thesis §6.2: a leader that cannot hear from a majority stops being leader within an election timeout.
        var c = new SimCluster(seed: 5, 5);
        var leader = c.WaitForLeader();
        c.Disconnect(leader);
        c.RunFor(30 * 10 * 2);
        Assert.NotEqual(StateRole.Leader, c.Nodes[leader].Soft.Role);
    }
}
