using Kvorum.Raft.Tests.Simulation;

namespace Kvorum.Raft.Tests;

/// <summary>
/// Learners (thesis §4.2.1): non-voting members that receive the log so that a new server can catch up before it
/// counts. A learner never campaigns and no candidate counts it; it counts toward no quorum (commit, ReadIndex,
/// CheckQuorum); promotion makes it count from the configuration that names it a voter; and a learner that fell
/// behind the leader's compacted log catches up by snapshot like any follower. Each test first shows the effect
/// with a voter in the learner's place where that is possible, so that it could fail.
/// </summary>
public class LearnerTests
{
    private static readonly ulong[] Voters123 = [1, 2, 3];

    /// <summary>Voters 1..3 and learners 4 and 5, member 1 elected by the voters and everyone caught up.</summary>
    private static ManualCluster ThreeVotersTwoLearners(bool checkQuorum = false)
    {
        var nodes = Enumerable.Range(1, 5).ToDictionary(i => (ulong)i, _ => (1UL, new ulong[] { 1 }));
        var c = new ManualCluster(new ConfState(Voters123, [4, 5]), nodes, checkQuorum: checkQuorum);
        c.Nodes[1].Campaign();
        c.Deliver();
        Assert.Equal(StateRole.Leader, c.Nodes[1].Role);
        Assert.Equal(c.Nodes[1].LastIndex, c.Nodes[1].Committed);
        return c;
    }

    /// <summary>Cuts both directions between member 1 and each of <paramref name="others"/>.</summary>
    private static void Isolate(ManualCluster c, params ulong[] others)
    {
        foreach (var o in others)
        {
            c.Cut.Add((1, o));
            c.Cut.Add((o, 1));
        }
    }

    private static void TickAndDeliver(ManualCluster c, ulong id, int ticks)
    {
        for (var i = 0; i < ticks; i++)
        {
            c.Nodes[id].Tick();
            c.Deliver();
        }
    }

    /// <summary>Thesis §4.2.1: a learner's election timeout starts no election; a voter's in the same place does.</summary>
    [Fact]
    public void A_learner_never_campaigns()
    {
        var nodes = Enumerable.Range(1, 3).ToDictionary(i => (ulong)i, _ => (1UL, new ulong[] { 1 }));
        var c = new ManualCluster(new ConfState([1, 2], [3]), nodes);
        TickAndDeliver(c, 3, 100);
        c.Nodes[3].Campaign();
        c.Deliver();
        Assert.DoesNotContain(c.Trace, t => t.From == 3);
        Assert.Equal(StateRole.Follower, c.Nodes[3].Role);
        Assert.Equal(1UL, c.Nodes[3].Term);

        // The same ticks make the voter 2 campaign.
        TickAndDeliver(c, 2, 100);
        Assert.Contains(c.Trace, t => t.From == 2 && t.Type == MessageType.Vote);
    }

    /// <summary>
    /// Thesis §4.2.1: a candidate asks only the voters of its configuration, and a vote from a learner does not count.
    /// (A learner asked by a candidate whose newer configuration promotes it may answer, as in etcd-raft: what matters
    /// is who the candidate counts, which is what this checks.)
    /// </summary>
    [Fact]
    public void A_learner_is_never_asked_to_vote_and_its_vote_does_not_count()
    {
        var nodes = Enumerable.Range(1, 4).ToDictionary(i => (ulong)i, _ => (1UL, new ulong[] { 1 }));
        var c = new ManualCluster(new ConfState(Voters123, [4]), nodes);
        Isolate(c, 2, 3);
        c.Nodes[1].Campaign();
        c.Deliver();
        Assert.Equal(StateRole.Candidate, c.Nodes[1].Role);
        var term = c.Nodes[1].Term;
        Assert.DoesNotContain(c.Trace, t => t.To == 4);

        // A granted vote from the learner: self and learner make two of four members, but one of three voters.
        c.Nodes[1].Step(new Message { Type = MessageType.VoteResponse, From = 4, To = 1, Term = term });
        c.Pump();
        Assert.Equal(StateRole.Candidate, c.Nodes[1].Role);

        // The same vote from voter 2 elects it.
        c.Nodes[1].Step(new Message { Type = MessageType.VoteResponse, From = 2, To = 1, Term = term });
        c.Pump();
        Assert.Equal(StateRole.Leader, c.Nodes[1].Role);
    }

    /// <summary>
    /// Paper §5.3 and thesis §4.2.1: an entry commits once a majority of the voters hold it. Both learners and the
    /// leader hold it (three of five members), but one voter of three is no majority.
    /// </summary>
    [Fact]
    public void A_learner_does_not_count_toward_commit()
    {
        var c = ThreeVotersTwoLearners();
        var committed = c.Nodes[1].Committed;
        Isolate(c, 2, 3);
        var r = c.Nodes[1].Propose(new byte[] { 42 });
        Assert.True(r.Accepted);
        c.Deliver();
        Assert.Equal(r.Index, c.Storage[4].LastIndex);
        Assert.Equal(r.Index, c.Storage[5].LastIndex);
        Assert.Equal(committed, c.Nodes[1].Committed);

        // Once voter 2 hears from the leader again, the entry commits.
        c.Cut.Clear();
        TickAndDeliver(c, 1, 3);
        Assert.True(c.Nodes[1].Committed >= r.Index, $"commit {c.Nodes[1].Committed} after the voters answered");
    }

    /// <summary>
    /// Thesis §6.4 step 3: a read is answered once a majority of the voters confirm the leader. Both learners answer
    /// its heartbeats; that confirms nothing.
    /// </summary>
    [Fact]
    public void A_learner_does_not_count_toward_the_ReadIndex_quorum()
    {
        var c = ThreeVotersTwoLearners();
        Isolate(c, 2, 3);
        Assert.True(c.Nodes[1].ReadIndex(new byte[] { 7 }));
        TickAndDeliver(c, 1, 3);
        Assert.Contains(c.Trace, t => t.Type == MessageType.HeartbeatResponse && t.From == 4);
        Assert.False(c.ReadStates.ContainsKey(1), "a read confirmed by learners only");

        c.Cut.Clear();
        TickAndDeliver(c, 1, 2);
        var read = Assert.Single(c.ReadStates[1]);
        Assert.Equal(c.Nodes[1].Committed, read.Index);
    }

    /// <summary>
    /// Thesis §6.2: a leader that has not heard from a majority of the voters within an election timeout steps down.
    /// Learners that answer every heartbeat do not keep it leading; voters that do, do.
    /// </summary>
    [Fact]
    public void A_learner_does_not_count_toward_CheckQuorum()
    {
        var c = ThreeVotersTwoLearners(checkQuorum: true);
        var electionTick = new RaftConfig { Id = 1, Storage = new MemoryRaftStorage(), Random = new Random(1) }.ElectionTick;
        TickAndDeliver(c, 1, 3 * electionTick);
        Assert.Equal(StateRole.Leader, c.Nodes[1].Role);

        Isolate(c, 2, 3);
        TickAndDeliver(c, 1, 3 * electionTick);
        Assert.Contains(c.Trace, t => t.Type == MessageType.HeartbeatResponse && t.From == 5);
        Assert.Equal(StateRole.Follower, c.Nodes[1].Role);
    }

    /// <summary>
    /// Thesis §4.1: a server uses the latest configuration in its log, committed or not, so a promoted learner counts
    /// as soon as the leader appends the change. With voter 2 cut off, an entry the learner holds does not commit
    /// (one voter of two); appending the promotion makes the learner's acknowledgements count (two voters of three),
    /// and both entries commit.
    /// </summary>
    [Fact]
    public void A_promoted_learner_counts_from_the_next_configuration()
    {
        var nodes = Enumerable.Range(1, 3).ToDictionary(i => (ulong)i, _ => (1UL, new ulong[] { 1 }));
        var c = new ManualCluster(new ConfState([1, 2], [3]), nodes);
        c.Nodes[1].Campaign();
        c.Deliver();
        Assert.Equal(StateRole.Leader, c.Nodes[1].Role);
        Isolate(c, 2);
        var entry = c.Nodes[1].Propose(new byte[] { 1 });
        c.Deliver();
        Assert.Equal(entry.Index, c.Storage[3].LastIndex);
        Assert.True(c.Nodes[1].Committed < entry.Index, "committed with a learner's acknowledgement");

        var promote = c.Nodes[1].ProposeConfChange(new ConfChange(ConfChangeType.AddVoter, 3));
        Assert.True(promote.Accepted);
        Assert.True(c.Nodes[1].Config.IsVoter(3));
        c.Deliver();
        Assert.Equal(promote.Index, c.Nodes[1].Committed);
    }

    /// <summary>
    /// Paper §7: a learner that was away while the leader compacted its log past the learner's last entry gets the
    /// leader's snapshot, then entries, and ends with the same state machine.
    /// </summary>
    [Fact]
    public void A_far_behind_learner_catches_up_by_snapshot()
    {
        var c = new SimCluster(seed: 35, 3, new SimOptions { SnapshotEvery = 20 }, learners: 1);
        var leader = c.WaitForLeader();
        Assert.True(c.WaitAcked(c.Propose()));
        c.RunFor(100);
        c.Crash(4);
        for (var i = 0; i < 100; i++)
            Assert.True(c.WaitAcked(c.Propose()));
        Assert.True(c.Nodes[leader].Storage.FirstIndex > c.Nodes[4].Storage.LastIndex + 1, "the leader compacted past the learner's log");
        var snapshotsBefore = c.Network.SentByType.GetValueOrDefault(MessageType.Snapshot);

        c.Restart(4);
        Assert.True(c.RunUntil(() => c.Nodes[4].AppliedIndex == c.Nodes[leader].AppliedIndex, 3000), "the learner caught up");
        Assert.Equal(c.Nodes[leader].AppliedHash, c.Nodes[4].AppliedHash);
        Assert.True(c.Network.SentByType[MessageType.Snapshot] > snapshotsBefore, "caught up through InstallSnapshot");
        Assert.True(c.Nodes[4].Storage.Snapshot.Index > 0);
        Assert.True(c.Nodes[leader].Raft!.Status.Config.IsLearner(4));
    }
}
