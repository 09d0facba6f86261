namespace Kvorum.Lab.Scenarios;

/// <summary>Restarts every member in turn under load.</summary>
internal sealed class RollingRestartScenario : IScenario
{
    /// <inheritdoc/>
    public string Name => "rolling-restart";

    /// <inheritdoc/>
    public string Summary => "restart each of 5 members in turn (SIGTERM, start, catch up) under load: availability and failover times";

    /// <inheritdoc/>
    public async Task RunAsync(ScenarioContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await context.UpAsync(5).ConfigureAwait(false);
        var load = context.StartLoad();
        await using (load.ConfigureAwait(false))
        {
            context.Theory("with one member down, 4 of 5 remain, more than the majority of 3: the cluster keeps committing. Only restarting the leader costs an election (about one election timeout without writes); restarting a follower costs nothing but the writes sent to it.");
            await context.SleepAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            var start = context.Now;
            var failovers = new List<TimeSpan>();
            var allBack = true;
            foreach (var node in Enumerable.Range(1, 5))
            {
                var leader = await context.LeaderAsync().ConfigureAwait(false);
                var stopped = context.Now;
                var clean = context.Lab.Stop(node);
                context.Say($"stopped n{node}{(node == leader ? " (the leader)" : "")}{(clean ? "" : " — it had to be killed")}");
                if (node == leader)
                {
                    var elected = await context.WaitLeaderAmongAsync([.. Enumerable.Range(1, 5).Where(n => n != node)], TimeSpan.FromSeconds(20)).ConfigureAwait(false);
                    if (elected is { } e)
                    {
                        failovers.Add(e.At - stopped);
                        context.Say($"n{e.Leader} leads, seen {(e.At - stopped).TotalMilliseconds:0} ms after the stop signal, once the old leader had handed over and exited");
                    }
                }

                await context.SleepAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                context.Lab.StartNode(node);
                var caughtUp = await context.WaitCaughtUpAsync(node, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                allBack &= caughtUp is not null;
                context.Say(caughtUp is { } c ? $"n{node} back and caught up after {c.TotalMilliseconds:0} ms" : $"n{node} did not catch up in 30 s");
            }

            var end = context.Now;
            var availability = load.Availability(start, end);
            var writes = load.Invoked(start, end).ToList();
            context.Say($"{writes.Count(r => r.Ok)} of {writes.Count} writes committed during the restarts; availability {availability:0.0}% of {(int)(end - start).TotalSeconds} one-second windows; leader failover {Percentiles.Summary(failovers)}");
            context.Expect("every restarted member catches up", allBack, allBack ? "all 5 caught up" : "at least one did not");
            context.Expect(
                "the cluster stays available through a rolling restart (at least 80% of one-second windows with a committed write)",
                availability >= 80,
                $"{availability:0.0}%");
        }
    }
}
