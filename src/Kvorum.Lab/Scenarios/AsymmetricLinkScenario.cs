using Kvorum.Lab.Faults;

namespace Kvorum.Lab.Scenarios;

/// <summary>A one-way cut from the leader to a follower, run with PreVote on and then off.</summary>
internal sealed class AsymmetricLinkScenario : IScenario
{
    /// <inheritdoc/>
    public string Name => "asymmetric-link";

    /// <inheritdoc/>
    public string Summary => "one-way cut leader -> follower: with PreVote the leader is not deposed; without it the follower's terms climb and disrupt";

    /// <inheritdoc/>
    public async Task RunAsync(ScenarioContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Theory("the follower stops hearing the leader (its packets are dropped) but can still send. Without PreVote it times out, raises its term and asks for votes; a higher term deposes whoever hears it, so the cluster's term climbs and leadership can be disrupted (at the latest when the link heals). With PreVote it first asks whether it could win: the others still hear a leader and refuse, so no term changes.");
        var on = await RunOnceAsync(context, preVote: true).ConfigureAwait(false);
        var off = await RunOnceAsync(context, preVote: false).ConfigureAwait(false);
        context.Say($"PreVote on: {on.TermChanges} term changes, {on.LeaderChanges} leader changes; PreVote off: {off.TermChanges} term changes, {off.LeaderChanges} leader changes");
        context.Expect(
            "with PreVote the one-way cut does not depose the leader repeatedly",
            on.LeaderChanges <= 1,
            $"{on.LeaderChanges} leader changes, {on.TermChanges} term changes in {on.Seconds:0} s");
        context.Expect(
            "without PreVote the cut follower drives the term up (more term changes than with PreVote)",
            off.TermChanges > on.TermChanges,
            $"{off.TermChanges} term changes without PreVote vs {on.TermChanges} with");
        context.Expect(
            "both runs keep committing through the leader side",
            on.Committed > 0 && off.Committed > 0,
            $"{on.Committed} writes committed with PreVote, {off.Committed} without");
    }

    private static async Task<Run> RunOnceAsync(ScenarioContext context, bool preVote)
    {
        await context.UpAsync(3, preVote).ConfigureAwait(false);
        var leader = await context.LeaderAsync().ConfigureAwait(false);
        var follower = context.Lab.Layout.Nodes.Select(n => n.Number).First(n => n != leader);
        var startTerm = (await context.StatusesAsync().ConfigureAwait(false)).Max(s => s?.Term ?? 0);
        var load = context.StartLoad();
        await using (load.ConfigureAwait(false))
        {
            context.Lab.AddFault(Fault.Cut(leader, follower, oneWay: true));
            var cut = context.Now; // the fault is in force from here
            context.Say($"PreVote {(preVote ? "on" : "off")}: cut n{leader} -> n{follower} one way (n{follower} -> n{leader} still delivered), term {startTerm}");
            var maxTerm = startTerm;
            var leaders = new List<(ulong Term, ulong Id)>();
            var observe = TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(8).Ticks, 8 * context.ElectionTimeout.Ticks));
            var healed = false;
            while (context.Now - cut < observe + TimeSpan.FromSeconds(3))
            {
                if (!healed && context.Now - cut >= observe)
                {
                    context.Lab.Heal();
                    context.Say($"healed after {observe.TotalSeconds:0} s; watching 3 s more (a rejoining follower with a high term disrupts here)");
                    healed = true;
                }

                maxTerm = Math.Max(maxTerm, await ObserveAsync(context, leaders).ConfigureAwait(false));

                await context.SleepAsync(TimeSpan.FromMilliseconds(100)).ConfigureAwait(false);
            }

            var committed = load.Invoked(cut, context.Now).Count(r => r.Ok);
            await load.DisposeAsync().ConfigureAwait(false);
            var converged = await context.WaitConvergedAsync(TimeSpan.FromSeconds(20)).ConfigureAwait(false);
            maxTerm = Math.Max(maxTerm, await ObserveAsync(context, leaders).ConfigureAwait(false));

            context.Say(converged is { } c ? $"converged at applied index {c.Applied} {c.Took.TotalMilliseconds:0} ms after the workload stopped" : "did not converge in 20 s");
            var leaderChanges = Math.Max(0, leaders.Count - 1);
            context.Say($"PreVote {(preVote ? "on" : "off")}: highest term {maxTerm} (started at {startTerm}), leaders seen: {string.Join(", ", leaders.Select(l => $"term {l.Term}"))}, {committed} writes committed during the cut and after");
            return new Run((int)(maxTerm - startTerm), leaderChanges, committed, (context.Now - cut).TotalSeconds);
        }
    }

    // Records each (term, leader) seen and returns the highest term any member reports.
    private static async Task<ulong> ObserveAsync(ScenarioContext context, List<(ulong Term, ulong Id)> leaders)
    {
        ulong maxTerm = 0;
        foreach (var s in await context.StatusesAsync().ConfigureAwait(false))
        {
            if (s is null)
                continue;
            maxTerm = Math.Max(maxTerm, s.Term);
            if (s.IsLeader && !leaders.Contains((s.Term, s.MemberId)))
                leaders.Add((s.Term, s.MemberId));
        }

        return maxTerm;
    }

    private sealed record Run(int TermChanges, int LeaderChanges, int Committed, double Seconds);
}
