using Kvorum.Raft.Tests.Simulation;

namespace Kvorum.Raft.Tests;

/// <summary>
/// Crashes lose what the disk had not made durable (<see cref="SimStorage"/>): a hard state that only moves the
/// commit index is written lazily, and a leader's own entries may still be in flight when it crashes.
/// </summary>
public class DurabilityScenarioTests
{
    /// <summary>
    /// The model itself: after a write is acknowledged on a single voter, the commit index that covers it is only
    /// queued; a crash that loses the queue restarts the member with the older commit index, and it commits again.
    /// </summary>
    [Fact]
    public void A_crash_loses_a_commit_index_that_was_not_yet_durable_and_the_member_recommits()
    {
        var c = new SimCluster(seed: 50, 1);
        c.WaitForLeader();
        var op = c.Propose();
        Assert.True(c.WaitAcked(op));
        var acked = c.Acked[op].Index;
        var disk = (SimStorage)c.Nodes[1].Storage;
        Assert.True(disk.Durable.HardState.Commit < acked, $"durable commit {disk.Durable.HardState.Commit}, acknowledged {acked}");
        Assert.Equal(acked, disk.Durable.LastIndex);

        c.Crash(1, keepPending: 0);
        Assert.Equal(1, disk.LostCommitOnlyWrites);
        c.Restart(1);
        Assert.True(c.Nodes[1].Raft!.Status.Commit < acked);
        c.WaitForLeader();
        Assert.True(c.RunUntil(() => c.Nodes[1].AppliedIndex >= acked, 1000), "the restarted member commits its log again");
    }

    /// <summary>
    /// Issue 19, finding 1, as the server met it: a single voter restarts with a stale commit index, and a read that
    /// waits for a leader is taken in the same batch as the tick that elects it, before the new term's first entry is
    /// written. Thesis §6.4 step 1: it must wait for that entry to commit, and then see the acknowledged write.
    /// </summary>
    [Fact]
    public void A_single_voters_read_right_after_a_restart_with_a_stale_commit_index_sees_every_acknowledged_write()
    {
        var c = new SimCluster(seed: 51, 1, new SimOptions { BatchedHost = true });
        c.WaitForLeader();
        for (var i = 0; i < 3; i++)
            Assert.True(c.WaitAcked(c.Propose()));
        c.Crash(1, keepPending: 0);
        c.Restart(1);
        Assert.True(c.Nodes[1].Raft!.Status.Commit < c.MaxAckedIndex, "the restart lost the commit index");
        Assert.True(c.Read(1));
        // The checker throws on a read served below MaxAckedIndex.
        Assert.True(c.RunUntil(() => c.ReadsServed == 1, 2000), "the read was served");
    }
}
