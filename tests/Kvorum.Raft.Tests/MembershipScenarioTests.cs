using Kvorum.Raft.Tests.Simulation;

namespace Kvorum.Raft.Tests;

/// <summary>Snapshots (paper §7), membership changes (thesis §4) and leadership transfer (thesis §3.10).</summary>
public class MembershipScenarioTests
{
    [Fact]
    public void A_snapshot_is_installed_on_a_lagging_follower()
    {
        var c = new SimCluster(seed: 30, 3, new SimOptions { SnapshotEvery = 20 });
        var leader = c.WaitForLeader();
        var lagging = c.Nodes.Keys.First(i => i != leader);
        c.Crash(lagging);
        for (var i = 0; i < 100; i++)
            Assert.True(c.WaitAcked(c.Propose()));
        // The leader compacted past what the follower has.
        Assert.True(c.Nodes[leader].Storage.FirstIndex > c.Nodes[lagging].Storage.LastIndex + 1);
        var snapshotsBefore = c.Network.SentByType.GetValueOrDefault(MessageType.Snapshot);
        c.Restart(lagging);
        c.RunUntil(() => c.Nodes[lagging].AppliedIndex == c.Nodes[leader].AppliedIndex, 3000);
        Assert.Equal(c.Nodes[leader].AppliedHash, c.Nodes[lagging].AppliedHash);
        Assert.True(c.Network.SentByType[MessageType.Snapshot] > snapshotsBefore, "caught up through InstallSnapshot");
        // And it keeps replicating normally afterwards.
        Assert.True(c.WaitAcked(c.Propose()));
        c.RunFor(200);
        Assert.Equal(c.Nodes[leader].AppliedHash, c.Nodes[lagging].AppliedHash);
    }

    [Fact]
    public void Membership_from_3_to_5_and_back_to_3_under_load()
    {
        var c = new SimCluster(seed: 31, 3, new SimOptions { SnapshotEvery = 50 });
        c.WaitForLeader();
        void Load(int n)
        {
            for (var i = 0; i < n; i++)
            {
                c.Propose();
                c.RunFor(3);
            }
        }
        void Change(ConfChange cc)
        {
            // Retry until accepted: a change waits for the previous one and for the leader's own-term commit.
            Assert.True(c.RunUntil(() => c.ProposeConfChange(cc).Accepted, 3000), $"{cc.Type} {cc.NodeId} not accepted");
            Load(20);
            var leader = c.WaitForLeader();
            c.RunUntil(() => c.Nodes[c.Leader() == 0 ? leader : c.Leader()].Raft!.Status.Commit >= c.Nodes[leader].Raft!.Status.LastIndex, 2000);
        }

        Load(30);
        foreach (var id in new ulong[] { 4, 5 })
        {
            c.AddNode(id, ConfState.Empty);
            // Learner first: it catches up without affecting the quorum (thesis §4.2.1).
            Change(new ConfChange(ConfChangeType.AddLearner, id));
            Assert.True(c.RunUntil(() => c.Nodes[id].AppliedIndex + 5 >= c.Nodes[c.WaitForLeader()].AppliedIndex, 3000), $"learner {id} caught up");
            Change(new ConfChange(ConfChangeType.AddVoter, id));
        }
        var conf = c.Nodes[c.WaitForLeader()].Raft!.Status.Config;
        Assert.Equal(new ulong[] { 1, 2, 3, 4, 5 }, conf.Voters.ToArray());

        // Now a 5-node cluster: two servers may fail.
        Load(20);
        // Shrink back to 3, removing two of the originals (possibly the leader: thesis §4.2.2).
        foreach (var id in new ulong[] { 1, 2 })
            Change(new ConfChange(ConfChangeType.RemoveNode, id));
        var final = c.Nodes[c.WaitForLeader()].Raft!.Status.Config;
        Assert.Equal(new ulong[] { 3, 4, 5 }, final.Voters.ToArray());
        var op = c.Propose();
        Assert.True(c.WaitAcked(op));
        c.RunFor(500);
        Assert.Equal(c.Nodes[3].AppliedHash, c.Nodes[4].AppliedHash);
        Assert.Equal(c.Nodes[3].AppliedHash, c.Nodes[5].AppliedHash);
        Assert.True(c.Acked.Count > 100);
    }

    [Fact]
    public void Removing_the_leader_it_steps_down_after_commit_and_the_others_elect()
    {
        var c = new SimCluster(seed: 32, 3);
        var leader = c.WaitForLeader();
        Assert.True(c.WaitAcked(c.Propose()));
        Assert.True(c.ProposeConfChange(new ConfChange(ConfChangeType.RemoveNode, leader)).Accepted);
        c.RunUntil(() => c.Leader() != 0 && c.Leader() != leader, 5000);
        var next = c.Leader();
        Assert.NotEqual(leader, next);
        Assert.Equal(2, c.Nodes[next].Raft!.Status.Config.Voters.Length);
        Assert.True(c.WaitAcked(c.Propose()));
        // The removed server never campaigns again.
        c.RunFor(3000);
        Assert.NotEqual(StateRole.Leader, c.Nodes[leader].Soft.Role);
    }

    [Fact]
    public void A_ConfChange_is_refused_while_another_is_pending()
    {
        var c = new SimCluster(seed: 33, 3);
        var leader = c.WaitForLeader();
        c.RunFor(100);
        c.AddNode(4, ConfState.Empty);
        c.AddNode(5, ConfState.Empty);
        Assert.True(c.Nodes[leader].Raft!.ProposeConfChange(new ConfChange(ConfChangeType.AddLearner, 4)).Accepted);
        var second = c.Nodes[leader].Raft!.ProposeConfChange(new ConfChange(ConfChangeType.AddLearner, 5));
        Assert.Equal(ProposeStatus.ConfChangePending, second.Status);
        var invalid = c.Nodes[leader].Raft!;
        c.RunFor(200);
        Assert.Equal(ProposeStatus.InvalidConfChange, invalid.ProposeConfChange(new ConfChange(ConfChangeType.RemoveNode, 9)).Status);
    }

    [Fact]
    public void Leadership_transfer_under_load()
    {
        var c = new SimCluster(seed: 34, 5);
        var leader = c.WaitForLeader();
        var target = c.Nodes.Keys.First(i => i != leader);
        for (var i = 0; i < 50; i++)
        {
            c.Propose();
            c.RunFor(2);
        }
        c.TransferLeadership(target);
        var termBefore = c.Nodes[leader].Storage.HardState.Term;
        for (var i = 0; i < 50 && c.Leader() != target; i++)
        {
            c.Propose();
            c.RunFor(5);
        }
        c.RunUntil(() => c.Leader() == target, 1000);
        Assert.Equal(target, c.Leader());
        // The transfer is one election, not a timeout-driven one: the term moved by exactly one.
        Assert.Equal(termBefore + 1, c.Nodes[target].Storage.HardState.Term);
        Assert.True(c.WaitAcked(c.Propose()));
    }

    /// <summary>
    /// A configuration with no voters has no majority, so no entry after it could ever commit and no leader be elected
    /// (issue 19, finding 4): the last voter's removal is refused, also with learners left, and a learner may still go.
    /// </summary>
    [Fact]
    public void Removing_the_last_voter_is_refused()
    {
        var storage = new MemoryRaftStorage();
        storage.ApplySnapshot(new SnapshotMetadata(0, 0, new ConfState([1], [2])), ReadOnlyMemory<byte>.Empty);
        storage.Save(new HardState(1, 1, 1), [new Entry(1, 1, new byte[] { 1 })]);
        var node = new RaftNode(new RaftConfig { Id = 1, Storage = storage, Random = new Random(1) });
        node.Campaign();
        while (node.HasReady)
        {
            var rd = node.GetReady();
            storage.Save(rd.HardState, rd.EntriesSpan);
            node.Advance();
        }
        Assert.Equal(StateRole.Leader, node.Role);
        var committed = node.Committed;

        Assert.Equal(ProposeStatus.InvalidConfChange, node.ProposeConfChange(new ConfChange(ConfChangeType.RemoveNode, 1)).Status);
        Assert.False(node.HasReady);
        Assert.Equal(committed, node.Committed);
        Assert.Equal([1UL], node.Config.Voters.ToArray());
        Assert.Throws<InvalidOperationException>(() => ConfState.OfVoters(1).Apply(new ConfChange(ConfChangeType.RemoveNode, 1)));

        Assert.True(node.ProposeConfChange(new ConfChange(ConfChangeType.RemoveNode, 2)).Accepted);
        Assert.Empty(node.Config.Learners);
    }

    /// <summary>
    /// Thesis §4.2.2 makes a leader that removed itself step down once the removal commits. If it loses leadership
    /// first and the removal is truncated, the removal is gone, and it must not step down later, as leader again, when
    /// the commit index passes where that entry once was (issue 19, finding 6).
    /// </summary>
    [Fact]
    public void A_truncated_self_removal_does_not_make_a_later_leader_step_down()
    {
        var c = ManualCluster.ThreeLedByOne();
        c.Cut.UnionWith([(1, 2), (1, 3)]);
        Assert.True(c.Nodes[1].ProposeConfChange(new ConfChange(ConfChangeType.RemoveNode, 1)).Accepted);
        c.Deliver();

        // Member 2 takes over and overwrites the removal, which never left member 1.
        c.Nodes[2].Campaign();
        c.Deliver();
        Assert.Equal(StateRole.Leader, c.Nodes[2].Role);
        c.Cut.Clear();
        for (var i = 0; i < 3; i++)
            Assert.True(c.Nodes[2].Propose(new byte[] { (byte)i }).Accepted);
        c.Deliver();
        c.Nodes[2].Tick(); // a heartbeat: member 1's answers were cut, so its progress waits for one
        c.Deliver();
        Assert.Equal(c.Nodes[2].LastIndex, c.Nodes[1].LastIndex);
        Assert.Equal([1UL, 2, 3], c.Nodes[1].Config.Voters.ToArray());

        c.Nodes[2].TransferLeadership(1);
        c.Deliver();
        Assert.True(StateRole.Leader == c.Nodes[1].Role, string.Join("; ", c.Nodes.Select(kv => $"{kv.Key}: {kv.Value.Status}")));
        Assert.True(c.Nodes[1].Propose(new byte[] { 9 }).Accepted);
        c.Deliver();
        Assert.Equal(StateRole.Leader, c.Nodes[1].Role);
        Assert.Equal(c.Nodes[1].LastIndex, c.Nodes[1].Committed);
    }

    /// <summary>
    /// A leader of two voters removes itself and loses leadership before the removal reaches the other voter. The other
    /// needs its vote and does not get it (its log is shorter), so the removed one must be able to campaign until its
    /// removal commits: elected by the new configuration's voters, it finishes the removal and steps down, and the other
    /// leads alone (found by the simulator).
    /// </summary>
    [Fact]
    public void A_leader_that_removed_itself_from_two_voters_and_lost_leadership_still_finishes_its_removal()
    {
        var c = new ManualCluster(ConfState.OfVoters(1, 2), new()
        {
            [1] = (1, [1]),
            [2] = (1, [1]),
        });
        c.Nodes[1].Campaign();
        c.Deliver();
        Assert.Equal(StateRole.Leader, c.Nodes[1].Role);
        c.Cut.Add((1, 2));
        Assert.True(c.Nodes[1].ProposeConfChange(new ConfChange(ConfChangeType.RemoveNode, 1)).Accepted);
        c.Deliver();
        c.Nodes[2].Campaign(); // a higher term: member 1 follows it, but refuses its vote (its log is longer)
        c.Deliver();
        Assert.NotEqual(StateRole.Leader, c.Nodes[1].Role);
        Assert.NotEqual(StateRole.Leader, c.Nodes[2].Role);

        c.Cut.Clear();
        for (var tick = 0; tick < 200 && !(c.Nodes[2].Role == StateRole.Leader && c.Nodes[2].Config.Voters.SequenceEqual([2UL])); tick++)
        {
            foreach (var node in c.Nodes.Values)
                node.Tick();
            c.Deliver();
        }
        Assert.Equal(StateRole.Leader, c.Nodes[2].Role);
        Assert.Equal([2UL], c.Nodes[2].Config.Voters.ToArray());
        Assert.True(c.Nodes[2].Propose(new byte[] { 7 }).Accepted);
        c.Deliver();
        Assert.Equal(c.Nodes[2].LastIndex, c.Nodes[2].Committed);
    }

    /// <summary>
    /// A server whose removal committed but which restarted with a stale commit index still believes its removal may be
    /// pending, and campaigns; the members that know the removal committed ignore its requests, so its higher terms do
    /// not depose their leader (thesis §4.2.3).
    /// </summary>
    [Fact]
    public void Vote_requests_of_a_server_whose_removal_committed_are_ignored()
    {
        var c = ManualCluster.ThreeLedByOne();
        Assert.True(c.Nodes[1].ProposeConfChange(new ConfChange(ConfChangeType.RemoveNode, 3)).Accepted);
        c.Deliver();
        Assert.Equal([1UL, 2], c.Nodes[2].Config.Voters.ToArray());
        var term = c.Nodes[1].Term;
        var answered = c.Delivered.GetValueOrDefault(MessageType.VoteResponse) + c.Delivered.GetValueOrDefault(MessageType.PreVoteResponse);

        c.Nodes[2].Step(new Message { Type = MessageType.Vote, From = 3, To = 2, Term = term + 5, Index = 99, LogTerm = term });
        c.Nodes[1].Step(new Message { Type = MessageType.PreVote, From = 3, To = 1, Term = term + 5, Index = 99, LogTerm = term });
        c.Deliver();

        Assert.Equal(term, c.Nodes[2].Term);
        Assert.Equal(StateRole.Leader, c.Nodes[1].Role);
        Assert.Equal(answered, c.Delivered.GetValueOrDefault(MessageType.VoteResponse) + c.Delivered.GetValueOrDefault(MessageType.PreVoteResponse));
    }
}
