using System.Diagnostics;
using Kvorum.Raft;
using Kvorum.Server.Observe;

namespace Kvorum.Server.Tests.Observe;

/// <summary>Under load a member publishes a budget of heartbeat and append events per window; elections always.</summary>
public sealed class MessageSamplingTests
{
    private static readonly long Window = Stopwatch.Frequency / 10;

    [Fact]
    public void Past_the_budget_appends_and_heartbeats_are_left_out_and_counted_at_the_next_window()
    {
        var sampling = new MessageSampling(3, TimeSpan.FromMilliseconds(100));
        var admitted = 0;
        for (var i = 0; i < 10; i++)
        {
            if (sampling.Admit(i % 2 == 0 ? MessageType.Append : MessageType.HeartbeatResponse, 1000, out var skipped))
                admitted++;
            Assert.Equal(0, skipped);
        }
        Assert.Equal(3, admitted);

        Assert.True(sampling.Admit(MessageType.Append, 1000 + Window, out var reported));
        Assert.Equal(7, reported);
    }

    [Theory]
    [InlineData(MessageType.Vote)]
    [InlineData(MessageType.PreVoteResponse)]
    [InlineData(MessageType.Snapshot)]
    [InlineData(MessageType.TimeoutNow)]
    public void Election_snapshot_and_transfer_messages_are_never_left_out(MessageType type)
    {
        var sampling = new MessageSampling(1, TimeSpan.FromMilliseconds(100));
        Assert.True(sampling.Admit(MessageType.Append, 0, out _));
        Assert.False(sampling.Admit(MessageType.Append, 0, out _));

        for (var i = 0; i < 100; i++)
            Assert.True(sampling.Admit(type, 0, out _));
    }
}
