using Grpc.Core;
using Kvorum.Lab.Faults;

namespace Kvorum.Lab.Scenarios;

/// <summary>
/// Asynchrony: a leader paused for less than the election timeout is merely slow and nothing happens; paused for
/// longer it cannot be told from a dead one, the others elect another, and it wakes up at a stale term still
/// believing it leads, until the others' higher term reaches it. Nothing it accepted meanwhile is committed.
/// </summary>
internal sealed class SlowOrDeadScenario : IScenario
{
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(2);

    /// <inheritdoc/>
    public string Name => "slow-or-dead";

    /// <inheritdoc/>
    public string Summary => "asynchrony: a short pause of the leader changes nothing; a long one looks like death, another is elected, and the old one wakes at a stale term";

    /// <inheritdoc/>
    public async Task RunAsync(ScenarioContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await context.UpAsync(3).ConfigureAwait(false);
        var lab = context.Lab;
        var et = context.ElectionTimeout;
        var leader = await context.LeaderAsync().ConfigureAwait(false);
        int[] others = [.. lab.Layout.Nodes.Select(n => n.Number).Where(n => n != leader)];
        var term0 = (await context.StatusesAsync([leader]).ConfigureAwait(false))[0]?.Term ?? 0;

        context.Theory($"in an asynchronous system a message can take any time, so a member cannot tell a slow peer from a dead one; Raft guesses with a timeout. A follower suspects the leader only after hearing nothing for its election timeout ({et.TotalMilliseconds + Tick(context)}–{2 * et.TotalMilliseconds} ms), so a shorter silence goes unnoticed.");
        var shortPause = et * 0.4;
        lab.Pause(leader);
        await context.SleepAsync(shortPause).ConfigureAwait(false);
        lab.Resume(leader);
        context.Say($"paused n{leader}, the leader at term {term0}, for {shortPause.TotalMilliseconds:0} ms (SIGSTOP, like a long GC pause), then resumed it");
        await context.SleepAsync(2 * et).ConfigureAwait(false);
        var after = await context.StatusesAsync().ConfigureAwait(false);
        var leaders = after.Where(s => s is not null).Select(s => (s!.Leader, s.Term)).Distinct().ToList();
        var leaderId = after[leader - 1]?.MemberId;
        context.Expect(
            "a pause shorter than the election timeout changes nothing: same leader, same term",
            after.All(s => s is not null) && leaders.Count == 1 && leaders[0].Leader == leaderId && leaders[0].Term == term0,
            string.Join(", ", after.Select((s, i) => s is null ? $"n{i + 1} silent" : $"n{i + 1} term {s.Term} {(s.IsLeader ? "leader" : "follower")}")));

        var load = context.StartLoad([leader]);
        var staleKeys = new List<string>();
        (int Leader, TimeSpan At)? elected;
        ulong term1;
        TimeSpan paused;
        await using (load.ConfigureAwait(false))
        {
            await context.SleepAsync(TimeSpan.FromMilliseconds(500)).ConfigureAwait(false);
            var longPause = 3 * et;
            context.Theory($"a pause of {longPause.TotalMilliseconds:0} ms outlasts every election timeout: to the others n{leader} is as good as dead. They elect a new leader at a higher term; n{leader}, frozen, knows nothing of it.");
            lab.Pause(leader);
            paused = context.Now;
            lab.AddFault(Fault.Isolate(leader));
            context.Say($"paused n{leader} again, and cut it off as well, so that we can look at it when it wakes before anyone reaches it; a client keeps writing to it (1 s deadline)");
            elected = await context.WaitLeaderAmongAsync(others, 4 * et + Slack).ConfigureAwait(false);
            term1 = elected is { } e0 ? (await context.StatusesAsync([e0.Leader]).ConfigureAwait(false))[0]?.Term ?? 0 : 0;
            if (elected is { } e1)
                context.Say($"n{e1.Leader} elected at term {term1}, {(e1.At - paused).TotalMilliseconds:0} ms after the pause");
            context.Expect(
                "the others cannot tell the paused leader from a dead one: they elect another at a higher term within the election timeout range (+ 2 s slack)",
                elected is { } e2 && e2.At - paused <= 2 * et + Slack && term1 > term0,
                elected is { } e3 ? $"n{e3.Leader} leads at term {term1} (was {term0}) after {(e3.At - paused).TotalMilliseconds:0} ms" : "no new leader");
            var wait = longPause - (context.Now - paused);
            if (wait > TimeSpan.Zero)
                await context.SleepAsync(wait).ConfigureAwait(false);
        }

        // The writer stopped (its calls in flight ended) while the old leader was still frozen.
        var duringPause = load.Invoked(paused, context.Now, leader).ToList();
        staleKeys.AddRange(duringPause.Select(r => r.Key));
        lab.Resume(leader);
        var resumed = context.Now;
        var woke = (await context.StatusesAsync([leader]).ConfigureAwait(false))[0];
        context.Say($"resumed n{leader} after {(resumed - paused).TotalMilliseconds:0} ms; it says: {(woke is null ? "nothing" : $"{woke.Role} at term {woke.Term}")}");
        context.Expect(
            "it wakes still believing it leads, at the stale term",
            woke is { IsLeader: true } && woke.Term == term0 && term0 < term1,
            woke is null ? "no answer" : $"n{leader} is {woke.Role} at term {woke.Term} while n{elected?.Leader} leads at term {term1}");

        var staleKey = $"stale/{Guid.NewGuid():N}"[..18];
        staleKeys.Add(staleKey);
        string staleOutcome;
        try
        {
            await lab.Client.PutAsync(leader, staleKey, "written-to-a-stale-leader", TimeSpan.FromMilliseconds(300), context.Cancellation).ConfigureAwait(false);
            staleOutcome = "acknowledged";
        }
        catch (RpcException error)
        {
            staleOutcome = error.StatusCode.ToString();
        }

        lab.Heal();
        var healed = context.Now;
        context.Say($"a put through n{leader} now: {staleOutcome} (it appends, but no majority answers); healed the network {(healed - resumed).TotalMilliseconds:0} ms after it woke");
        context.Theory($"on first contact n{leader} sees a message of term {term1} > {term0}, learns it is stale, and steps down; its own CheckQuorum would also make it step down an election timeout after waking, if the contact came later than that.");
        TimeSpan? followed = null;
        var sawCheckQuorum = false;
        while (context.Now - healed < 4 * et + Slack)
        {
            var s = (await context.StatusesAsync([leader]).ConfigureAwait(false))[0];
            if (s is { IsLeader: false, Leader: 0 })
                sawCheckQuorum = true;
            if (s is { IsLeader: false } && s.Leader != 0 && s.Term >= term1)
            {
                followed = context.Now - healed;
                break;
            }

            await context.SleepAsync(TimeSpan.FromMilliseconds(20)).ConfigureAwait(false);
        }

        context.Expect(
            "after the heal it steps down and follows the new leader at its term",
            followed is not null,
            followed is { } f
                ? $"n{leader} followed n{elected?.Leader} at term ≥ {term1} {f.TotalMilliseconds:0} ms after the heal ({(sawCheckQuorum ? "its CheckQuorum had stepped it down first" : "stepped down on contact")})"
                : $"n{leader} still does not follow the new leader");

        var converged = await context.WaitConvergedAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        var newLeader = await context.LeaderAsync().ConfigureAwait(false);
        var present = new List<string>();
        foreach (var key in staleKeys)
        {
            var (value, _) = await lab.Client.GetAsync(newLeader, key, TimeSpan.FromSeconds(5), cancellation: context.Cancellation).ConfigureAwait(false);
            if (value is not null)
                present.Add(key);
        }

        context.Expect(
            "nothing the old leader accepted after the pause was committed",
            converged is not null && present.Count == 0 && duringPause.All(r => !r.Ok),
            $"{duringPause.Count(r => r.Ok)} of {duringPause.Count} writes sent to n{leader} during the pause succeeded, the put after it woke {staleOutcome}; {present.Count} of {staleKeys.Count} of their keys exist after the heal (read through n{newLeader}){(converged is { } c ? $"; all 3 at applied index {c.Applied}" : "; not converged")}");
    }

    private static double Tick(ScenarioContext context) => context.Options.HeartbeatMs;
}
