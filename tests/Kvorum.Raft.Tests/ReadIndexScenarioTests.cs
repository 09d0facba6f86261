using Kvorum.Raft.Tests.Simulation;

namespace Kvorum.Raft.Tests;

/// <summary>Linearizable reads with ReadIndex (thesis §6.4) and leases (§6.4.1).</summary>
public class ReadIndexScenarioTests
{
    [Theory]
    [InlineData(ReadOnlyOption.Safe)]
    [InlineData(ReadOnlyOption.LeaseBased)]
    public void ReadIndex_on_the_leader_and_followers_reflects_acknowledged_writes(ReadOnlyOption option)
    {
        var c = new SimCluster(seed: 40, 3, new SimOptions { ReadOnlyOption = option });
        c.WaitForLeader();
        for (var i = 0; i < 20; i++)
        {
            Assert.True(c.WaitAcked(c.Propose()));
            foreach (var id in c.Nodes.Keys)
                Assert.True(c.Read(id));
        }
        c.RunFor(500);
        Assert.Equal(60, c.ReadsServed);
    }

    [Fact]
    public void ReadIndex_at_a_partitioned_leader_is_never_served()
    {
        var c = new SimCluster(seed: 41, 5);
        var leader = c.WaitForLeader();
        Assert.True(c.WaitAcked(c.Propose()));
        c.Disconnect(leader);
        Assert.True(c.Read(leader));
        // The majority moves on and acknowledges a write the old leader does not have.
        c.RunUntil(() => c.Leader() != 0 && c.Leader() != leader, 5000);
        Assert.True(c.WaitAcked(c.Propose()));
        c.RunFor(2000);
        Assert.Equal(0, c.ReadsServed);
    }

    [Fact]
    public void ReadIndex_before_the_first_commit_of_the_term_waits_for_it()
    {
        var c = new SimCluster(seed: 42, 3);
        var leader = c.WaitForLeader();
        c.RunFor(200);
        Assert.True(c.Read(leader));
        c.RunFor(200);
        Assert.Equal(1, c.ReadsServed);
    }

    /// <summary>
    /// Thesis §6.4 step 1 holds for a single voter too. Its commit index is persisted lazily, so after a crash it can
    /// restart with entries it had committed and acknowledged (here 2 and 3) above the commit index on disk; a read
    /// answered with that commit index before the new term's no-op commits would miss them.
    /// </summary>
    [Fact]
    public void ReadIndex_on_a_single_voter_after_a_restart_with_a_stale_commit_waits_for_its_terms_first_commit()
    {
        var storage = new MemoryRaftStorage();
        storage.ApplySnapshot(new SnapshotMetadata(0, 0, ConfState.OfVoters(1)), ReadOnlyMemory<byte>.Empty);
        storage.Save(new HardState(1, 1, 1), [new Entry(1, 1, new byte[] { 1 }), new Entry(2, 1, new byte[] { 2 }), new Entry(3, 1, new byte[] { 3 })]);
        var node = new RaftNode(new RaftConfig { Id = 1, Storage = storage, Random = new Random(1) });
        node.Campaign();
        Assert.Equal(StateRole.Leader, node.Role);
        Assert.True(node.ReadIndex(new byte[] { 7 }));
        var served = new List<ReadState>();
        while (node.HasReady)
        {
            var rd = node.GetReady();
            storage.Save(rd.HardState, rd.EntriesSpan);
            served.AddRange(rd.ReadStates);
            node.Advance();
        }
        var read = Assert.Single(served);
        Assert.True(read.Index >= 3, $"read served at index {read.Index}, below the acknowledged entry 3");
    }

    /// <summary>
    /// Thesis §6.4.1's lease holds only while no other server can be elected before it ends. A TimeoutNow lets its
    /// target win at once, and one sent during a transfer that was then abandoned can still arrive: after any
    /// TimeoutNow, the lease stays off for the rest of the term (issue 19, finding 7).
    /// </summary>
    [Fact]
    public void Lease_stays_off_for_the_term_after_a_TimeoutNow_was_sent()
    {
        var c = new ManualCluster(ConfState.OfVoters(1, 2, 3), new()
        {
            [1] = (1, [1]),
            [2] = (1, [1]),
            [3] = (1, [1]),
        }, readOnly: ReadOnlyOption.LeaseBased);
        var leader = c.Nodes[1];
        // With leases, a server that just started waits an election timeout before it votes (Raft.InLease).
        for (var i = 0; i < 10; i++)
        {
            foreach (var node in c.Nodes.Values)
                node.Tick();
        }
        leader.Campaign();
        c.Deliver();
        Assert.True(StateRole.Leader == leader.Role, leader.Status.ToString());
        leader.Tick();
        c.Deliver(); // a heartbeat round answered: the lease holds
        Assert.True(StateRole.Leader == leader.Role, leader.Status.ToString());
        Assert.True(leader.ReadIndex(new byte[] { 1 }));
        Assert.Single(TakeReadStates(c, 1)); // served from the lease, without a round

        c.Cut.Add((1, 2)); // the TimeoutNow is held up on the way (here: lost; it could as well arrive late)
        leader.TransferLeadership(2);
        c.Deliver();
        for (var i = 0; i < 12; i++)
        {
            leader.Tick();
            c.Deliver();
        }
        Assert.Equal(StateRole.Leader, leader.Role);
        Assert.Equal(0UL, leader.Status.LeadTransferee); // the transfer was abandoned

        Assert.True(leader.ReadIndex(new byte[] { 2 }));
        Assert.Empty(TakeReadStates(c, 1)); // not from the lease: member 2 may be elected any moment
    }

    /// <summary>Handles the node's Readies, dropping their messages, and returns the read states they carried.</summary>
    private static List<ReadState> TakeReadStates(ManualCluster c, ulong id)
    {
        var before = c.ReadStates.TryGetValue(id, out var earlier) ? earlier.Count : 0;
        c.TakeSent(id);
        return c.ReadStates.TryGetValue(id, out var all) ? all[before..] : [];
    }
}
