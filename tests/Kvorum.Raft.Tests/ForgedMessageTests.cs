using System.Text;

namespace Kvorum.Raft.Tests;

/// <summary>
/// What a follower does with leader messages that no correct cluster can send: from a second leader in one term
/// (Election Safety, paper §5.2), or with other contents for an index and term it holds (Log Matching, §5.3).
/// </summary>
public class ForgedMessageTests
{
    [Fact]
    public void A_follower_drops_appends_and_heartbeats_of_its_term_from_another_member_than_its_leader()
    {
        var c = ManualCluster.ThreeLedByOne();
        var follower = c.Nodes[2];
        var before = follower.Status;
        Assert.Equal(1UL, before.Lead);

        follower.Step(new Message
        {
            Type = MessageType.Append,
            From = 3,
            To = 2,
            Term = before.Term,
            Index = before.LastIndex,
            LogTerm = before.Term,
            Entries = new[] { new Entry(before.LastIndex + 1, before.Term, Encoding.UTF8.GetBytes("forged")) },
            Commit = before.LastIndex + 1,
        });
        follower.Step(new Message { Type = MessageType.Heartbeat, From = 3, To = 2, Term = before.Term, Commit = before.LastIndex });
        c.Pump();

        var after = follower.Status;
        Assert.Equal((before.LastIndex, before.Commit, 1UL, before.Term), (after.LastIndex, after.Commit, after.Lead, after.Term));
        Assert.Equal(2, follower.ForeignLeaderMessages);
        Assert.Empty(c.TakeSent(2)); // not even answered

        // The real leader's traffic still flows.
        c.Nodes[1].Propose(Encoding.UTF8.GetBytes("real"));
        c.Deliver();
        Assert.Equal(before.LastIndex + 1, follower.Status.Commit);
        Assert.Equal(2, follower.ForeignLeaderMessages);
    }

    [Fact]
    public void An_entry_with_other_bytes_at_an_index_and_term_the_follower_holds_stops_it_and_changes_nothing()
    {
        var c = ManualCluster.ThreeLedByOne();
        // The follower gets the leader's entry, but its answer is lost: the entry stays uncommitted there.
        c.Cut.Add((2, 1));
        c.Cut.Add((1, 3));
        c.Nodes[1].Propose(Encoding.UTF8.GetBytes("real"));
        c.Deliver();
        var follower = c.Nodes[2];
        var status = follower.Status;
        var index = status.LastIndex;
        Assert.True(status.Commit < index, "the entry must be uncommitted on the follower for the test to mean anything");

        Message Append(string data) => new()
        {
            Type = MessageType.Append,
            From = 1,
            To = 2,
            Term = status.Term,
            Index = index - 1,
            LogTerm = status.Term,
            Entries = new[] { new Entry(index, status.Term, Encoding.UTF8.GetBytes(data)) },
            Commit = status.Commit,
        };

        var error = Assert.Throws<LogMatchingException>(() => follower.Step(Append("forged")));
        Assert.Equal("real", Encoding.UTF8.GetString(error.Held.Data.Span));
        Assert.Equal("forged", Encoding.UTF8.GetString(error.Received.Data.Span));
        Assert.Equal(index, error.Held.Index);
        Assert.Contains($"entry {index} of term {status.Term}", error.Message, StringComparison.Ordinal);
        Assert.Equal(index, follower.Status.LastIndex);
        Assert.Equal(status.Commit, follower.Status.Commit);

        // A retransmission of the same entry is what a correct leader sends, and is answered as usual.
        follower.Step(Append("real"));
        var answer = Assert.Single(c.TakeSent(2), m => m.Type == MessageType.AppendResponse);
        Assert.False(answer.Reject);
        Assert.Equal(index, answer.Index);
    }
}
