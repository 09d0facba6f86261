using Kvorum.Lab.Faults;

namespace Kvorum.Lab.Scenarios;

/// <summary>Partitions that change every few hundred milliseconds.</summary>
internal sealed class FlappingScenario : IScenario
{
    /// <inheritdoc/>
    public string Name => "flapping";

    /// <inheritdoc/>
    public string Summary => "a new random partition every 300-600 ms for 15 s: count elections and committed writes; all converge after heal";

    /// <inheritdoc/>
    public async Task RunAsync(ScenarioContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await context.UpAsync(5).ConfigureAwait(false);
        var random = new Random(Environment.TickCount);
        var load = context.StartLoad();
        await using (load.ConfigureAwait(false))
        {
            await context.SleepAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            var startTerm = (await context.StatusesAsync().ConfigureAwait(false)).Max(s => s?.Term ?? 0);
            context.Theory("each partition lasts less than an election timeout or barely more: leaders keep losing their majority before the others' timers fire, or new elections start and are cut short. Safety holds throughout; progress comes in bursts whenever a majority can talk long enough. PreVote and CheckQuorum keep the number of elections down.");
            var start = context.Now;
            var partitions = 0;
            while (context.Now - start < TimeSpan.FromSeconds(15))
            {
                context.Lab.Heal();
                int[] nodes = [.. Enumerable.Range(1, 5).OrderBy(_ => random.Next())];
                var split = random.Next(1, 3);
                context.Lab.AddFault(Fault.Partition([nodes[..split], nodes[split..]]));
                partitions++;
                await context.SleepAsync(TimeSpan.FromMilliseconds(random.Next(300, 600))).ConfigureAwait(false);
            }

            context.Lab.Heal();
            var end = context.Now;
            var endTerm = (await context.StatusesAsync().ConfigureAwait(false)).Max(s => s?.Term ?? 0);
            var during = load.Invoked(start, end).ToList();
            context.Say($"{partitions} partitions in {(end - start).TotalSeconds:0.0} s: {endTerm - startTerm} elections (terms {startTerm} -> {endTerm}), {during.Count(r => r.Ok)} of {during.Count} writes committed, availability {load.Availability(start, end):0}% of 1 s windows");
            var elected = await context.WaitLeaderAmongAsync([1, 2, 3, 4, 5], TimeSpan.FromSeconds(20)).ConfigureAwait(false);
            await context.SleepAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            var after = load.Invoked(end, context.Now).ToList();
            context.Expect(
                "after the flapping stops a leader is elected and writes commit",
                elected is not null && after.Any(r => r.Ok),
                $"leader {(elected is { } e ? $"n{e.Leader} {(e.At - end).TotalMilliseconds:0} ms after heal" : "none")}, {after.Count(r => r.Ok)} writes committed in the next second");
            await load.DisposeAsync().ConfigureAwait(false);
            var converged = await context.WaitConvergedAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            context.Expect(
                "all logs converge",
                converged is not null,
                converged is { } c ? $"all 5 at applied index {c.Applied}" : "not converged in 30 s");
        }
    }
}
