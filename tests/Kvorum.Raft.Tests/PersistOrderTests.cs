namespace Kvorum.Raft.Tests;

/// <summary>
/// Which messages may leave before the Ready's write is durable (thesis §10.2.1 lets a leader replicate in parallel
/// with its own write, but nothing may promise what is not yet on its disk). Issue 19, finding 3.
/// </summary>
public class PersistOrderTests
{
    private static (RaftNode Node, MemoryRaftStorage Storage) SingleVoterWithLearner()
    {
        var storage = new MemoryRaftStorage();
        storage.ApplySnapshot(new SnapshotMetadata(0, 0, ConfState.OfVoters(1).Apply(new ConfChange(ConfChangeType.AddLearner, 2))), ReadOnlyMemory<byte>.Empty);
        storage.Save(new HardState(1, 1, 1), [new Entry(1, 1, new byte[] { 1 })]);
        return (new RaftNode(new RaftConfig { Id = 1, Storage = storage, Random = new Random(1) }), storage);
    }

    [Fact]
    public void A_Ready_that_elects_a_single_voter_sends_nothing_before_its_new_term_is_durable()
    {
        var (node, _) = SingleVoterWithLearner();
        node.Campaign();
        var rd = node.GetReady();
        Assert.Equal(StateRole.Leader, node.Role);
        Assert.Equal(2UL, rd.HardState!.Value.Term);
        var append = Assert.Single(rd.Messages, m => m.Type == MessageType.Append && m.To == 2);
        Assert.False(rd.MayPersistLater);
        // Sent before the write, the learner would hold entries of term 2 that a crash could let this server write
        // again, differently, after winning term 2 once more from its old vote on disk.
        Assert.False(rd.MaySendBeforePersisting(append));
    }

    [Fact]
    public void A_leaders_later_replication_may_go_before_its_write_but_not_its_responses()
    {
        var (node, storage) = SingleVoterWithLearner();
        node.Campaign();
        while (node.HasReady)
        {
            var first = node.GetReady();
            storage.Save(first.HardState, first.EntriesSpan);
            node.Advance();
        }
        node.Propose(new byte[] { 9 });
        for (var i = 0; i < 20; i++)
            node.Tick(); // a heartbeat: the learner's progress is paused until it answers the first append
        var rd = node.GetReady();
        Assert.True(rd.MayPersistLater);
        Assert.NotEmpty(rd.Entries);
        var heartbeat = rd.Messages.First(m => m.Type == MessageType.Heartbeat);
        Assert.True(rd.MaySendBeforePersisting(heartbeat));
        Assert.False(rd.MaySendBeforePersisting(new Message { Type = MessageType.AppendResponse, To = 2 }));
        Assert.False(rd.MaySendBeforePersisting(new Message { Type = MessageType.VoteResponse, To = 2 }));
    }
}
