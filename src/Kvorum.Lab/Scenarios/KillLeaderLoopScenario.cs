namespace Kvorum.Lab.Scenarios;

/// <summary>Kills the leader again and again under load.</summary>
internal sealed class KillLeaderLoopScenario : IScenario
{
    private const int DefaultRounds = 10;

    /// <inheritdoc/>
    public string Name => "kill-leader-loop";

    /// <inheritdoc/>
    public string Summary => "SIGKILL the leader, wait for a new one, restart the old one; repeat (--rounds, default 10): failover p50/p99 and availability";

    /// <inheritdoc/>
    public async Task RunAsync(ScenarioContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var rounds = context.Options.Rounds > 0 ? context.Options.Rounds : DefaultRounds;
        await context.UpAsync(5).ConfigureAwait(false);
        var load = context.StartLoad();
        await using (load.ConfigureAwait(false))
        {
            context.Theory("a killed leader is noticed when the followers' election timers fire (one to two election timeouts after its last heartbeat); then one PreVote and one vote round elect a successor that holds every committed entry. No acknowledged write is lost; writes in flight at the kill may fail.");
            await context.SleepAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            var start = context.Now;
            var failovers = new List<TimeSpan>();
            for (var round = 1; round <= rounds; round++)
            {
                var (killed, successor, took) = await context.KillLeaderRoundAsync().ConfigureAwait(false);
                if (successor is not null)
                    failovers.Add(took);
                context.Say($"round {round}: killed n{killed}; {(successor is { } s ? $"n{s} leads after {took.TotalMilliseconds:0} ms" : "no new leader in 30 s")}");
            }

            var end = context.Now;
            var availability = load.Availability(start, end);
            var writes = load.Invoked(start, end).ToList();
            context.Say($"failover {Percentiles.Summary(failovers)}; {writes.Count(r => r.Ok)} of {writes.Count} writes committed; availability {availability:0.0}% of one-second windows");
            context.Expect("every kill is followed by a new leader", failovers.Count == rounds, $"{failovers.Count} of {rounds} rounds elected a new leader");
            context.Expect(
                "failover takes at most two election timeouts plus a vote round (+1 s slack on this host)",
                failovers.Count > 0 && Percentiles.Of(failovers, 99) <= 2 * context.ElectionTimeout + TimeSpan.FromSeconds(1),
                $"p99 {Percentiles.Of(failovers, 99).TotalMilliseconds:0} ms against {(2 * context.ElectionTimeout + TimeSpan.FromSeconds(1)).TotalMilliseconds:0} ms");
        }
    }
}
