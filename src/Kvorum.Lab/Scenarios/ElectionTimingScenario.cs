using System.Globalization;

namespace Kvorum.Lab.Scenarios;

/// <summary>The distribution of time-to-new-leader over many leader kills, for two timeout settings.</summary>
internal sealed class ElectionTimingScenario : IScenario
{
    private const int DefaultRounds = 100;

    /// <inheritdoc/>
    public string Name => "election-timing";

    /// <inheritdoc/>
    public string Summary => "kill the leader 100 times (--rounds) for election timeouts of 1000 and 300 ms: time-to-new-leader distribution vs the thesis (ch. 9)";

    /// <inheritdoc/>
    public async Task RunAsync(ScenarioContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var rounds = context.Options.Rounds > 0 ? context.Options.Rounds : DefaultRounds;
        context.Theory("Ongaro's thesis (ch. 9) and the Raft paper (§9.3, Fig. 16) crash the leader of 5 servers: with a timeout range of 150–300 ms elections finish well under a second, and with no randomness (150–150 ms) split votes make them take over 10 s. Timers are randomized in [T, 2T), so detection alone costs between T minus the time since the last heartbeat and 2T; the thesis reports that without split votes elections complete about a third of the way into the range on average.");
        var results = new List<(int Timeout, List<TimeSpan> Times)>();
        foreach ((var timeout, var heartbeat) in new[] { (1000, 100), (300, 30) })
        {
            var options = context.Options with { ElectionTimeoutMs = timeout, HeartbeatMs = heartbeat };
            var times = await MeasureAsync(context, options, rounds).ConfigureAwait(false);
            results.Add((timeout, times));
            var within = times.Count(t => t.TotalMilliseconds <= 2 * timeout + 200);
            context.Say($"T = {timeout} ms: {Percentiles.Summary(times)}; p90 {Percentiles.Of(times, 90).TotalMilliseconds:0} ms; {within} of {times.Count} within 2T + 200 ms");
            context.Say("histogram (ms): " + Histogram(times, timeout));
        }

        foreach ((var timeout, var times) in results)
        {
            context.Expect($"T = {timeout} ms: every kill elects a new leader", times.Count == rounds, $"{times.Count} of {rounds}");
            context.Expect(
                $"T = {timeout} ms: the median time to a new leader lies in the randomized range [T/2, 2T + 200 ms]",
                times.Count > 0 && Percentiles.Of(times, 50).TotalMilliseconds >= timeout / 2.0 && Percentiles.Of(times, 50).TotalMilliseconds <= 2 * timeout + 200,
                $"p50 {Percentiles.Of(times, 50).TotalMilliseconds:0} ms");
        }

        if (results.Count == 2 && results.All(r => r.Times.Count > 0))
        {
            var ratio = Percentiles.Of(results[0].Times, 50) / Percentiles.Of(results[1].Times, 50);
            context.Expect(
                "time to a new leader scales with the election timeout (median ratio near 1000/300 ≈ 3.3)",
                ratio is > 2 and < 5,
                $"ratio of medians {ratio.ToString("0.00", CultureInfo.InvariantCulture)}");
        }
    }

    private static async Task<List<TimeSpan>> MeasureAsync(ScenarioContext outer, ScenarioOptions options, int rounds)
    {
        // A context of its own for the timeout setting; the outer one keeps the narration and verdicts.
        var context = new ScenarioContext(options, outer.Out, outer.Cancellation);
        await using (context.ConfigureAwait(false))
        {
            await context.UpAsync(5).ConfigureAwait(false);
            var times = new List<TimeSpan>();
            for (var round = 1; round <= rounds; round++)
            {
                var (_, successor, took) = await context.KillLeaderRoundAsync().ConfigureAwait(false);
                if (successor is not null)
                    times.Add(took);
                if (round % 10 == 0)
                    context.Say($"T = {options.ElectionTimeoutMs} ms: {round} of {rounds} kills, last {(successor is not null ? $"{took.TotalMilliseconds:0} ms" : "no leader")}");
            }

            return times;
        }
    }

    private static string Histogram(List<TimeSpan> times, int timeout)
    {
        var bucket = Math.Max(50, timeout / 4);
        return string.Join("  ", times.GroupBy(t => (int)(t.TotalMilliseconds / bucket)).OrderBy(g => g.Key)
            .Select(g => $"{g.Key * bucket}-{(g.Key + 1) * bucket}: {g.Count()}"));
    }
}
