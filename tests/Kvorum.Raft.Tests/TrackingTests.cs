using Kvorum.Raft.Tracking;

namespace Kvorum.Raft.Tests;

/// <summary>Flow control and quorum arithmetic (thesis §10.2.1, paper §5.3).</summary>
public class TrackingTests
{
    [Theory]
    [InlineData(new ulong[] { 5 }, 5UL)]
    [InlineData(new ulong[] { 5, 3, 9 }, 5UL)]
    [InlineData(new ulong[] { 1, 2, 3, 4 }, 2UL)]
    [InlineData(new ulong[] { 7, 7, 1, 1, 1 }, 1UL)]
    [InlineData(new ulong[] { 7, 7, 7, 1, 1 }, 7UL)]
    public void QuorumMath_MajorityValue_IsHighestIndexOnAMajority(ulong[] matches, ulong expected) =>
        Assert.Equal(expected, QuorumMath.MajorityValue(matches.ToArray()));

    [Theory]
    [InlineData(3, 2, 0, VoteResult.Won)]
    [InlineData(3, 1, 1, VoteResult.Pending)]
    [InlineData(3, 1, 2, VoteResult.Lost)]
    [InlineData(4, 2, 0, VoteResult.Pending)]
    [InlineData(4, 2, 2, VoteResult.Lost)]
    [InlineData(5, 3, 2, VoteResult.Won)]
    internal void QuorumMath_Tally(int voters, int granted, int rejected, VoteResult expected) =>
        Assert.Equal(expected, QuorumMath.Tally(voters, granted, rejected));

    [Fact]
    public void Inflights_are_bounded_by_count_and_bytes_and_freed_by_acknowledgement()
    {
        var w = new Inflights(maxMessages: 3, maxBytes: 1000);
        w.Add(10, 100);
        w.Add(20, 100);
        Assert.False(w.Full);
        w.Add(30, 100);
        Assert.True(w.Full); // three messages
        w.FreeLE(20);
        Assert.Equal(1, w.Count);
        Assert.False(w.Full);
        w.Add(40, 950);
        Assert.True(w.Full); // bytes
        w.FreeFirstOne();
        Assert.Equal(1, w.Count);
        w.FreeLE(100);
        Assert.Equal(0, w.Count);
        Assert.Equal(0, w.Bytes);
        // The ring wraps around without losing order.
        for (ulong i = 1; i <= 10; i++)
        {
            w.Add(100 + i, 1);
            w.FreeLE(100 + i);
        }
        Assert.Equal(0, w.Count);
    }

    [Fact]
    public void Progress_in_probe_sends_one_at_a_time_and_in_replicate_pipelines()
    {
        var p = new Progress(next: 6, maxInflight: 2, maxInflightBytes: 0, isLearner: false);
        Assert.False(p.IsPaused);
        p.SentEntries(7, 10, 2);
        Assert.True(p.IsPaused); // probe: wait for the answer
        Assert.True(p.MaybeUpdate(7));
        p.BecomeReplicate();
        Assert.Equal(8UL, p.Next);
        p.SentEntries(9, 10, 2);
        p.SentEntries(11, 10, 2);
        Assert.True(p.IsPaused); // window of two full
        Assert.Equal(12UL, p.Next);
        // A stale rejection (at or below Match) is ignored; a real one rewinds to Match + 1 at least.
        Assert.False(p.MaybeDecreaseTo(7, 1));
        Assert.True(p.MaybeDecreaseTo(9, 3));
        Assert.Equal(8UL, p.Next);
    }
}
