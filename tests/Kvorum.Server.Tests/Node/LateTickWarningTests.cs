using System.Globalization;
using System.Text.RegularExpressions;
using Kvorum.Server.Tests.Transport;
using Microsoft.Extensions.Logging;

namespace Kvorum.Server.Tests.Node;

/// <summary>A loop held up for longer than half an election timeout says so: its elections and heartbeats ran late.</summary>
public sealed partial class LateTickWarningTests
{
    [GeneratedRegex(@"^raft tick late: (\d+) ms since the last one, expected 50 ms")]
    private static partial Regex LateTick();

    [Fact]
    public async Task A_loop_blocked_past_half_an_election_timeout_logs_a_late_tick()
    {
        var log = new ListLogger();
        await using var cluster = InMemoryCluster.Start(1, log: log);
        var node = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(10));

        // Ticks every 50 ms; half the 500 ms election timeout is the bound. The loop sleeps through 16 ticks.
        node.Post(() => Thread.Sleep(800));
        int LongestLate() => log.Lines
            .Where(l => l.Level == LogLevel.Warning)
            .Select(l => LateTick().Match(l.Text))
            .Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))
            .DefaultIfEmpty(0)
            .Max();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (LongestLate() < 750 && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        Assert.True(LongestLate() >= 750, $"no late tick of 750 ms or more logged: {string.Join(" | ", log.Lines.Select(l => l.Text))}");
    }
}
