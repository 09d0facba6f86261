using Kvorum.Lab.Faults;

namespace Kvorum.Lab.Scenarios;

/// <summary>The leader is cut off from every other member: it cannot commit, the rest elect a new leader.</summary>
internal sealed class LeaderIsolationScenario : IScenario
{
    /// <inheritdoc/>
    public string Name => "leader-isolation";

    /// <inheritdoc/>
    public string Summary => "isolate the leader: it cannot commit, the majority elects a new one, on heal its uncommitted entries are replaced";

    /// <inheritdoc/>
    public async Task RunAsync(ScenarioContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await context.UpAsync(5).ConfigureAwait(false);
        var load = context.StartLoad();
        await using (load.ConfigureAwait(false))
        {
            context.Say("a writer per member puts keys back to back (1 s deadline)");
            await context.SleepAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            var before = load.Invoked(TimeSpan.Zero, context.Now).Count(r => r.Ok);
            context.Say($"{before} writes committed before the fault");
            // The leader now, not at start: a loaded host can see an election in the first seconds.
            var oldLeader = await context.LeaderAsync().ConfigureAwait(false);
            int[] others = [.. context.Lab.Layout.Nodes.Select(n => n.Number).Where(n => n != oldLeader)];

            context.Theory($"n{oldLeader} alone is 1 of 5, short of the majority of 3: whatever it appends stays uncommitted. The other 4 stop hearing heartbeats; after an election timeout ({context.ElectionTimeout.TotalMilliseconds:0}–{2 * context.ElectionTimeout.TotalMilliseconds:0} ms, randomized) one of them wins PreVote and the election. The old leader, hearing from no majority for an election timeout, steps down (CheckQuorum).");
            context.Lab.AddFault(Fault.Isolate(oldLeader));
            var isolated = context.Now; // the fault is in force from here
            context.Say($"isolated n{oldLeader}, the leader");

            var slack = TimeSpan.FromSeconds(1.5);
            var elected = await context.WaitLeaderAmongAsync(others, 4 * context.ElectionTimeout + slack).ConfigureAwait(false);
            var took = elected?.At - isolated;
            if (elected is { } e)
                context.Say($"n{e.Leader} elected after {took!.Value.TotalMilliseconds:0} ms");
            context.Expect(
                "the majority elects a new leader within the election timeout range (+ 1.5 s slack for PreVote, the vote round and a loaded host)",
                took is { } t && t <= 2 * context.ElectionTimeout + slack,
                took is { } t2 ? $"new leader n{elected!.Value.Leader} after {t2.TotalMilliseconds:0} ms" : "no new leader");

            TimeSpan? steppedDown = null;
            while (context.Now - isolated < 4 * context.ElectionTimeout + slack)
            {
                var status = (await context.StatusesAsync([oldLeader]).ConfigureAwait(false))[0];
                if (status is { IsLeader: false })
                {
                    steppedDown = context.Now - isolated;
                    break;
                }

                await context.SleepAsync(TimeSpan.FromMilliseconds(25)).ConfigureAwait(false);
            }

            context.Expect(
                "the isolated leader steps down on its own (CheckQuorum) about one election timeout after losing the majority",
                steppedDown is { } s && s <= 2 * context.ElectionTimeout + slack,
                steppedDown is { } s2 ? $"n{oldLeader} stepped down after {s2.TotalMilliseconds:0} ms" : $"n{oldLeader} still claims to lead");

            await context.SleepAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            // Normally a call through the old leader has timed out by now; a loaded host may fire its deadline
            // late, and an empty window would prove nothing.
            await load.WaitCompletedAsync(isolated, oldLeader, TimeSpan.FromSeconds(10), context.Cancellation).ConfigureAwait(false);
            var healAt = context.Now;
            var viaOld = load.Invoked(isolated, healAt, oldLeader).ToList();
            var viaOthers = load.Invoked(elected?.At ?? healAt, healAt).Where(r => r.Node != oldLeader).ToList();
            context.Expect(
                "no write sent to the isolated leader commits",
                viaOld.Count > 0 && viaOld.All(r => !r.Ok),
                $"{viaOld.Count(r => r.Ok)} of {viaOld.Count} writes through n{oldLeader} succeeded; errors: {Errors(viaOld)}");
            context.Expect(
                "the majority side keeps committing writes",
                viaOthers.Any(r => r.Ok),
                $"{viaOthers.Count(r => r.Ok)} of {viaOthers.Count} writes through the other 4 succeeded after the election");

            context.Lab.Heal();
            context.Say("healed the network; stopping the writers");
            await load.DisposeAsync().ConfigureAwait(false);
            var converged = await context.WaitConvergedAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            context.Expect(
                "after heal every log converges to the same commit and applied index",
                converged is not null,
                converged is { } c ? $"all 5 at applied index {c.Applied} after {c.Took.TotalMilliseconds:0} ms" : "not converged in 30 s");

            string[] lost = [.. viaOld.Select(r => r.Key)];
            var present = 0;
            var leader = await context.LeaderAsync().ConfigureAwait(false);
            foreach (var key in lost)
            {
                var (value, _) = await context.Lab.Client.GetAsync(leader, key, TimeSpan.FromSeconds(5), cancellation: context.Cancellation).ConfigureAwait(false);
                if (value is not null)
                    present++;
            }

            context.Expect(
                "the old leader's uncommitted entries are replaced by the new leader's log",
                present == 0,
                $"{present} of {lost.Length} keys written through n{oldLeader} while isolated exist after heal (read through n{leader})");
        }
    }

    private static string Errors(IEnumerable<ClientRecord> records) =>
        string.Join(", ", records.Where(r => !r.Ok).GroupBy(r => r.Error).Select(g => $"{g.Key} ×{g.Count()}"));
}
