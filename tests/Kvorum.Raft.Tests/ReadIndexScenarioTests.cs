using Kvorum.Raft.Tests.Simulation;

namespace Kvorum.Raft.Tests;

/// <summary>Linearizable reads with ReadIndex (thesis §6.4) and leases (§6.4.1).</summary>
public class ReadIndexScenarioTests
{
    [Theory]
    [InlineData(ReadOnlyOption.Safe)]
    [InlineData(ReadOnlyOption.LeaseBased)]
    public void ReadIndex_OnLeaderAndFollowers_ReflectsAcknowledgedWrites(ReadOnlyOption option)
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
    public void ReadIndex_AtPartitionedLeader_IsNeverServed()
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
    public void ReadIndex_BeforeFirstCommitOfTerm_WaitsForIt()
    {
        var c = new SimCluster(seed: 42, 3);
        var leader = c.WaitForLeader();
        c.RunFor(200);
        Assert.True(c.Read(leader));
        c.RunFor(200);
        Assert.Equal(1, c.ReadsServed);
    }
}
