using System.Diagnostics;
using Kvorum.Server.Node;
using Kvorum.Server.Tests.Transport;
using Microsoft.Extensions.Logging;

namespace Kvorum.Server.Tests.Node;

/// <summary>The warnings of what delays the loop (<see cref="LoopDelays"/>), on a clock the test moves.</summary>
public sealed class LoopDelaysTests
{
    private readonly ListLogger _log = new();

    private static long At(double milliseconds) => 1 + (long)(milliseconds * Stopwatch.Frequency / 1000);

    private string[] Warnings => [.. _log.Lines.Where(l => l.Level == LogLevel.Warning).Select(l => l.Text)];

    [Fact]
    public void A_tick_more_than_half_an_election_timeout_after_the_last_is_late_once_a_leader_is_known()
    {
        var delays = new LoopDelays(_log, heartbeatMs: 100, electionTimeoutMs: 1000);
        delays.Tick(At(0), leaderKnown: true);
        delays.Tick(At(500), leaderKnown: true); // half the election timeout: not late yet
        Assert.Empty(Warnings);
        delays.Tick(At(1100), leaderKnown: true);
        Assert.Equal(["raft tick late: 600 ms since the last one, expected 100 ms; the loop or the thread pool is overloaded, so elections and heartbeats run late"], Warnings);
    }

    [Fact]
    public void Starting_up_before_a_leader_is_known_is_not_late_and_short_timeouts_allow_two_heartbeats()
    {
        var delays = new LoopDelays(_log, heartbeatMs: 100, electionTimeoutMs: 200);
        delays.Tick(At(0), leaderKnown: false);
        delays.Tick(At(5000), leaderKnown: false);
        delays.Tick(At(5200), leaderKnown: true); // two heartbeats, more than half the timeout
        Assert.Empty(Warnings);
        delays.Tick(At(5401), leaderKnown: true);
        Assert.Single(Warnings);
    }

    [Fact]
    public void A_write_slower_than_a_second_is_slow()
    {
        var delays = new LoopDelays(_log, 100, 1000);
        delays.Written(TimeSpan.FromMilliseconds(1000), entries: 3);
        Assert.Empty(Warnings);
        delays.Written(TimeSpan.FromMilliseconds(1500), entries: 3);
        Assert.Equal(["slow fsync: writing 3 entries took 1500 ms (expected under 1000 ms); the disk is slow or overloaded"], Warnings);
    }

    [Fact]
    public void Only_the_loop_thread_ticks() =>
        LoopThread.AssertOnlyTheLoopMay(owner => new LoopDelays(_log, 100, 1000, owner).Tick(At(0), true));
}
