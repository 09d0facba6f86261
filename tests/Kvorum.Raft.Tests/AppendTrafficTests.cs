namespace Kvorum.Raft.Tests;

/// <summary>
/// How many appends a leader sends in the steady state: one per follower per Ready, carrying both the new
/// entries and the new commit index, and none that would tell a follower nothing new.
/// </summary>
public class AppendTrafficTests
{
    /// <summary>Delivers <paramref name="append"/> to its follower and returns the follower's answer.</summary>
    private static Message Answer(ManualCluster c, Message append)
    {
        c.Nodes[append.To].Step(append);
        return Assert.Single(c.TakeSent(append.To), m => m.Type == MessageType.AppendResponse);
    }

    [Fact]
    public void A_commit_and_the_entries_proposed_meanwhile_go_out_in_one_append_per_follower()
    {
        var c = ManualCluster.ThreeLedByOne();
        var leader = c.Nodes[1];

        leader.Propose(new byte[] { 1 });
        var first = c.TakeSent(1).Where(m => m.Type == MessageType.Append).ToList();
        Assert.Equal([2UL, 3UL], first.Select(m => m.To).Order());
        var index = leader.Status.LastIndex;
        var ack2 = Answer(c, first.Single(m => m.To == 2));
        var ack3 = Answer(c, first.Single(m => m.To == 3));

        // Within one loop iteration: member 2's acknowledgement commits the entry, then a client proposes again.
        leader.Step(ack2);
        Assert.Equal(index, leader.Status.Commit);
        leader.Propose(new byte[] { 2 });
        var second = c.TakeSent(1).Where(m => m.Type == MessageType.Append).ToList();

        Assert.Equal([2UL, 3UL], second.Select(m => m.To).Order());
        foreach (var append in second)
        {
            Assert.Equal(index, append.Commit);
            Assert.Equal(index + 1, Assert.Single(append.Entries.ToArray()).Index);
        }

        // Member 3's acknowledgement of the first entry commits nothing new and leaves nothing unsent.
        leader.Step(ack3);
        Assert.DoesNotContain(c.TakeSent(1), m => m.Type == MessageType.Append);

        // Both followers still learn everything.
        foreach (var append in second)
            leader.Step(Answer(c, append));
        c.Deliver();
        foreach (var id in new ulong[] { 1, 2, 3 })
            Assert.Equal(index + 1, c.Nodes[id].Status.Commit);
    }

    [Fact]
    public void A_commit_with_nothing_new_to_send_still_reaches_every_follower()
    {
        var c = ManualCluster.ThreeLedByOne();
        var leader = c.Nodes[1];

        leader.Propose(new byte[] { 1 });
        var appends = c.TakeSent(1).Where(m => m.Type == MessageType.Append).ToList();
        var index = leader.Status.LastIndex;
        var ack2 = Answer(c, appends.Single(m => m.To == 2));

        leader.Step(ack2);
        var commits = c.TakeSent(1).Where(m => m.Type == MessageType.Append).ToList();

        Assert.Equal([2UL, 3UL], commits.Select(m => m.To).Order());
        Assert.All(commits, m => Assert.Equal(index, m.Commit));
        Assert.All(commits, m => Assert.True(m.Entries.IsEmpty));
    }
}
