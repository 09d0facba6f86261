using Kvorum.Lab.Faults;

namespace Kvorum.Lab.Scenarios;

/// <summary>Quorum and FLP: split 2/2/1, no side has a majority, nothing commits until heal.</summary>
internal sealed class NoMajorityScenario : IScenario
{
    /// <inheritdoc/>
    public string Name => "no-majority";

    /// <inheritdoc/>
    public string Summary => "quorum/FLP: split 5 members 2/2/1; no side can elect a leader or commit; progress resumes after heal";

    /// <inheritdoc/>
    public async Task RunAsync(ScenarioContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await context.UpAsync(5).ConfigureAwait(false);
        var load = context.StartLoad();
        await using (load.ConfigureAwait(false))
        {
            await context.SleepAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);

            context.Theory("a leader needs votes from 3 of 5 and a commit needs 3 of 5 copies; with groups of 2, 2 and 1 no group can do either. FLP says no deterministic protocol can guarantee both safety and progress in an asynchronous system with failures; Raft keeps safety and gives up progress until a majority can talk again.");
            context.Lab.AddFault(Fault.Partition([[1, 2], [3, 4], [5]]));
            var cut = context.Now; // the fault is in force from here
            // The term is read after the cut: an election that began before it (a heartbeat late on a loaded
            // machine) may still end with a leader, legitimately, since its votes were already sent. A term
            // that begins after the cut can only gather votes inside one group, so no leader of a later term.
            await context.SleepAsync(TimeSpan.FromMilliseconds(200)).ConfigureAwait(false);
            var termBefore = (await context.StatusesAsync().ConfigureAwait(false)).Max(s => s?.Term ?? 0);
            context.Say($"partitioned {{n1,n2}} / {{n3,n4}} / {{n5}} at term {termBefore}");

            var leaderSightings = 0;
            var maxTerm = termBefore;
            var window = TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(5).Ticks, 4 * context.ElectionTimeout.Ticks));
            while (context.Now - cut < window)
            {
                foreach (var s in await context.StatusesAsync().ConfigureAwait(false))
                {
                    if (s is { IsLeader: true } && s.Term > termBefore)
                        leaderSightings++;
                    maxTerm = Math.Max(maxTerm, s?.Term ?? 0);
                }

                await context.SleepAsync(TimeSpan.FromMilliseconds(100)).ConfigureAwait(false);
            }

            var healAt = context.Now;
            var during = load.Invoked(cut, healAt).ToList();
            context.Say($"{window.TotalSeconds:0} s partitioned: {during.Count} writes attempted, highest term seen {maxTerm}");
            context.Expect(
                "no write commits anywhere while no side has a majority",
                during.Count > 0 && during.All(r => !r.Ok),
                $"{during.Count(r => r.Ok)} of {during.Count} writes succeeded");
            context.Expect(
                "no member becomes leader of a term begun after the cut",
                leaderSightings == 0,
                $"{leaderSightings} sightings of a leader above term {termBefore}");

            context.Lab.Heal();
            context.Say("healed");
            var elected = await context.WaitLeaderAmongAsync([1, 2, 3, 4, 5], TimeSpan.FromSeconds(20)).ConfigureAwait(false);
            TimeSpan? firstWrite = null;
            while (context.Now - healAt < TimeSpan.FromSeconds(20) && firstWrite is null)
            {
                firstWrite = load.Invoked(healAt, context.Now).Where(r => r.Ok).Select(r => (TimeSpan?)(r.Completed - healAt)).Min();
                await context.SleepAsync(TimeSpan.FromMilliseconds(50)).ConfigureAwait(false);
            }

            context.Expect(
                "after heal a leader is elected and writes commit again",
                elected is not null && firstWrite is not null,
                $"leader {(elected is { } e ? $"n{e.Leader} after {(e.At - healAt).TotalMilliseconds:0} ms" : "none")}, first committed write {(firstWrite is { } f ? $"{f.TotalMilliseconds:0} ms" : "none")} after heal");
            await load.DisposeAsync().ConfigureAwait(false);
            var converged = await context.WaitConvergedAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            context.Expect(
                "all logs converge",
                converged is not null,
                converged is { } c ? $"all 5 at applied index {c.Applied}" : "not converged in 30 s");
        }
    }
}
