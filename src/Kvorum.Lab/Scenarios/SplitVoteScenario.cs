using Kvorum.Lab.Delay;

namespace Kvorum.Lab.Scenarios;

/// <summary>
/// FLP: with election timeouts all alike and a symmetric start, the candidates split the vote term after term and
/// no leader emerges; with Raft's randomized timeouts one wins within a few terms. The same experiment, run both ways.
/// </summary>
internal sealed class SplitVoteScenario : IScenario
{
    /// <summary>How long each message between members is held: longer than the followers' timeouts can drift apart.</summary>
    private static readonly TimeSpan MessageDelay = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The members' tick, as a fraction of the scenario's heartbeat: a follower's timer fires on a tick, so two timers
    /// started by the same heartbeat fire up to one tick apart, and with the usual 100 ms tick that left only 150 ms of
    /// the message delay for scheduling jitter before the first candidate's request reached the other still a
    /// follower (a loaded run once elected a leader at the 2nd term that way).
    /// </summary>
    private const int TicksPerHeartbeat = 5;

    /// <summary>How long to watch the members without randomization.</summary>
    private static readonly TimeSpan WatchWithout = TimeSpan.FromSeconds(7);

    /// <summary>Terms that must pass without a leader when the timeouts are all alike.</summary>
    private const int LeaderlessTerms = 5;

    /// <summary>Terms within which a leader must emerge when they are randomized.</summary>
    private const int TermsToLeader = 8;

    /// <inheritdoc/>
    public string Name => "split-vote";

    /// <inheritdoc/>
    public string Summary => "FLP: equal election timeouts and a symmetric start split the vote term after term; randomized ones elect a leader within a few terms";

    /// <inheritdoc/>
    public async Task RunAsync(ScenarioContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Theory("FLP (Fischer, Lynch and Paterson, 1985): in an asynchronous system, where messages may take any time, no deterministic protocol can be sure to reach agreement if even one process may fail. An adversary that schedules the messages can always keep it undecided. Raft stays safe regardless and gets progress from two things FLP does not allow: partial synchrony (messages usually arrive well within an election timeout) and randomness (each follower draws its timeout at random, so one of them usually times out first and wins before the others wake).");
        context.Theory($"the experiment: 3 members, every message between them delayed {MessageDelay.TotalMilliseconds:0} ms, PreVote off. Kill the leader: the 2 followers heard its last heartbeat together, so they start their election timers together — a symmetric start. Then watch the terms, once with every timeout the same and once randomized.");

        var off = await RunOnceAsync(context, randomized: false, WatchWithout).ConfigureAwait(false);
        context.Expect(
            $"timeouts all alike: the followers time out together, each votes for itself, and no leader emerges for at least {LeaderlessTerms} terms",
            off.Leader is null && off.Terms >= LeaderlessTerms,
            off.Leader is { } l
                ? $"n{l} was elected after {off.Terms} terms ({off.Took.TotalMilliseconds:0} ms)"
                : $"{off.Terms} terms passed in {off.Took.TotalMilliseconds:0} ms without a leader");

        var on = await RunOnceAsync(context, randomized: true, TimeSpan.FromSeconds(TermsToLeader * 2.5 * context.ElectionTimeout.TotalSeconds)).ConfigureAwait(false);
        context.Expect(
            $"randomized timeouts: one follower times out first and wins within {TermsToLeader} terms",
            on.Leader is not null && on.Terms <= TermsToLeader,
            on.Leader is { } w
                ? $"n{w} was elected at the {Ordinal(on.Terms)} term after the kill, {on.Took.TotalMilliseconds:0} ms after it"
                : $"no leader after {on.Terms} terms ({on.Took.TotalMilliseconds:0} ms)");
    }

    /// <summary>
    /// Brings up a lab, kills the leader once the delay is in force, and watches the two followers' terms until one
    /// leads or <paramref name="watch"/> ends.
    /// </summary>
    /// <returns>The new leader (null if none), how many terms began after the kill, and for how long it watched.</returns>
    private static async Task<(int? Leader, ulong Terms, TimeSpan Took)> RunOnceAsync(ScenarioContext context, bool randomized, TimeSpan watch)
    {
        using var delay = new PeerDelay();
        await context.UpAsync(3, preVote: false, randomizedElectionTimeout: randomized, peerDelay: delay, heartbeatMs: Tick(context.Options)).ConfigureAwait(false);
        delay.Current = MessageDelay;
        await context.SleepAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        var leader = await context.LeaderAsync().ConfigureAwait(false);
        int[] followers = [.. context.Lab.Layout.Nodes.Select(n => n.Number).Where(n => n != leader)];
        var term0 = (await context.StatusesAsync([leader]).ConfigureAwait(false))[0]?.Term ?? 0;
        context.Lab.Kill(leader);
        var killed = context.Now;
        context.Say($"messages now take {MessageDelay.TotalMilliseconds:0} ms; killed n{leader}, the leader at term {term0}; watching {MinorityPartitionScenario.Group(followers)}");

        var maxTerm = term0;
        var seen = new List<string>();
        int? elected = null;
        while (context.Now - killed < watch && elected is null)
        {
            var statuses = await context.StatusesAsync(followers).ConfigureAwait(false);
            foreach (var (s, n) in statuses.Zip(followers))
            {
                if (s is null)
                    continue;
                if (s.Term > maxTerm)
                {
                    maxTerm = s.Term;
                    seen.Add($"term {s.Term} at {(context.Now - killed).TotalSeconds:0.0}s");
                }

                if (s.IsLeader)
                    elected = n;
            }

            await context.SleepAsync(TimeSpan.FromMilliseconds(20)).ConfigureAwait(false);
        }

        var took = context.Now - killed;
        context.Say($"{(randomized ? "randomized" : "alike")}: {string.Join(", ", seen)}{(elected is { } e ? $"; n{e} leads" : "; no leader")}");
        if (!randomized && elected is null)
        {
            // What kept the symmetry: each vote request arrived after the other follower had voted for itself.
            delay.Current = TimeSpan.Zero;
            var fast = context.Now;
            var after = await context.WaitLeaderAmongAsync(followers, 4 * context.ElectionTimeout).ConfigureAwait(false);
            var term = after is { } a ? (await context.StatusesAsync([a.Leader]).ConfigureAwait(false))[0]?.Term : null;
            context.Say(after is { } f
                ? $"messages fast again: the follower whose timer fires first now reaches the other before it times out; n{f.Leader} leads at term {term}, {(f.At - fast).TotalMilliseconds:0} ms later"
                : "messages fast again, and still no leader");
        }

        await context.DownAsync().ConfigureAwait(false);
        return (elected, maxTerm - term0, took);
    }

    /// <summary>
    /// The finer tick when serve takes it (at least 10 ms, as the scenario command asks, and a divisor of the election
    /// timeout, as serve asks); otherwise the options' heartbeat.
    /// </summary>
    private static int Tick(ScenarioOptions options)
    {
        var fine = options.HeartbeatMs / TicksPerHeartbeat;
        return options.HeartbeatMs % TicksPerHeartbeat == 0 && fine >= 10 && options.ElectionTimeoutMs % fine == 0 ? fine : options.HeartbeatMs;
    }

    private static string Ordinal(ulong n) => n switch { 1 => "1st", 2 => "2nd", 3 => "3rd", _ => $"{n}th" };
}
