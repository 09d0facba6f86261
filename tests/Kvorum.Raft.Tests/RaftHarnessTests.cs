using Kvorum.Raft.Harness;

namespace Kvorum.Raft.Tests;

/// <summary>
/// The shared Ready-driving loop as it stands, with no host's additions: a lossless wire elects, commits and applies
/// everywhere, and a follower that missed compacted entries installs the snapshot that came with the message.
/// </summary>
public class RaftHarnessTests
{
    private static RaftHarness<HarnessNode> ThreeNodes()
    {
        var harness = new RaftHarness<HarnessNode>(new MessageWire());
        var conf = ConfState.OfVoters(1, 2, 3);
        foreach (var id in new ulong[] { 1, 2, 3 })
        {
            var storage = new MemoryRaftStorage(conf);
            harness.Add(new HarnessNode(id, storage) { Raft = new RaftNode(new RaftConfig { Id = id, Storage = storage, Random = new Random((int)id) }) });
        }
        return harness;
    }

    private static void Settle(RaftHarness<HarnessNode> harness)
    {
        harness.ProcessAllReady();
        harness.DeliverDue();
    }

    [Fact]
    public void A_lossless_wire_elects_commits_and_applies_everywhere()
    {
        var harness = ThreeNodes();
        var leader = harness.Nodes[1].Raft!;
        leader.Campaign();
        Settle(harness);
        Assert.Equal(StateRole.Leader, leader.Role);

        var proposed = leader.Propose(new byte[] { 7 });
        Settle(harness);

        Assert.All(harness.Nodes.Values, n => Assert.Equal(proposed.Index, n.AppliedIndex));
        Assert.Equal(harness.Wire.Sent, harness.Wire.Delivered);
    }

    [Fact]
    public void A_follower_cut_off_while_the_leader_compacts_installs_the_snapshot_sent_to_it()
    {
        var harness = ThreeNodes();
        var leader = harness.Nodes[1];
        leader.Raft!.Campaign();
        Settle(harness);
        harness.Wire.Block(1, 3);
        for (var i = 0; i < 5; i++)
            leader.Raft.Propose(new byte[] { (byte)i });
        Settle(harness);
        var applied = leader.AppliedIndex;
        leader.Storage.CreateSnapshot(applied, leader.Raft.ConfStateAt(applied), new byte[] { 42 });

        harness.Wire.HealAll();
        for (var tick = 0; tick < 5 && harness.Nodes[3].AppliedIndex < applied; tick++)
        {
            leader.Raft.Tick();
            Settle(harness);
        }

        var follower = harness.Nodes[3];
        Assert.Equal(applied, follower.AppliedIndex);
        Assert.Equal(applied, follower.Storage.Snapshot.Index);
        Assert.Equal(new byte[] { 42 }, follower.Storage.SnapshotData.ToArray());
        Assert.Contains(MessageType.Snapshot, harness.Wire.SentByType.Keys);
    }
}
