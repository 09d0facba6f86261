using Grpc.Core;
using Kvorum.Etcd.Api;
using Kvorum.Lab.Faults;

namespace Kvorum.Lab.Scenarios;

/// <summary>
/// A lock alone is not mutual exclusion under a partition. Client A holds <c>jobs/lock</c> through a member that is
/// then isolated; its lease expires on the majority, which grants the lock to client B while A still believes it
/// holds it. Plain writes from both are accepted; writes fenced by the lock key's create revision (a Txn comparing
/// it, or a store refusing lower tokens) let only B's through.
/// </summary>
internal sealed class LockUnderPartitionScenario : IScenario
{
    private const string LockName = "jobs/lock";
    private const string PlainKey = "jobs/resource/plain";
    private const string FencedKey = "jobs/resource/fenced";
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(2);

    /// <inheritdoc/>
    public string Name => "lock-under-partition";

    /// <inheritdoc/>
    public string Summary => "a lock holder is cut off with its member; its lease expires and another client gets the lock while the first still believes it holds it; only writes fenced by the lock key's revision stay exclusive";

    /// <inheritdoc/>
    public async Task RunAsync(ScenarioContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await context.UpAsync(3).ConfigureAwait(false);
        var leader = await context.LeaderAsync().ConfigureAwait(false);
        int[] followers = [.. context.Lab.Layout.Nodes.Select(n => n.Number).Where(n => n != leader)];
        var a = new LockContender("A", followers[0], context.Lab.Client.Channel(followers[0]), context.Clock, CallTimeout);
        await using (a.ConfigureAwait(false))
        {
            var b = new LockContender("B", followers[1], context.Lab.Client.Channel(followers[1]), context.Clock, CallTimeout);
            await using (b.ConfigureAwait(false))
                await RunAsync(context, a, b).ConfigureAwait(false);
        }
    }

    private static async Task RunAsync(ScenarioContext context, LockContender a, LockContender b)
    {
        var cancellation = context.Cancellation;
        var ttlSeconds = LeaseTtlSeconds(context.ElectionTimeout);
        var ttl = TimeSpan.FromSeconds(ttlSeconds);
        context.Theory($"an etcd lock is a key under a lease: Lock puts {LockName}/<lease id> and waits until every older key under {LockName}/ is deleted. The key lives as long as the lease, and only the leader expires a lease: its TTL after the last keep-alive the leader received. The holder's token is its key's create revision; every later holder's key is created later, so its token is larger.");
        await a.GrantLeaseAsync(ttlSeconds, cancellation).ConfigureAwait(false);
        await a.LockAsync(LockName, TimeSpan.FromSeconds(10), cancellation).ConfigureAwait(false);
        context.Say($"A, through n{a.Node}, holds {LockName}: key {a.OwnerKey.ToStringUtf8()} under lease {a.LeaseId:x} (TTL {ttlSeconds} s, kept alive every {ttlSeconds / 3.0:0.#} s), token {a.Token}");
        var aFencedBefore = await a.FencedPutAsync(FencedKey, $"A, token {a.Token}, before the partition", cancellation).ConfigureAwait(false);
        context.Say($"A's fenced write to {FencedKey} while it holds the lock: {(aFencedBefore ? "accepted" : "refused")}");

        // B's lease is not what the story is about: three times A's, so that a stall of a loaded host cannot end it.
        await b.GrantLeaseAsync(3 * ttlSeconds, cancellation).ConfigureAwait(false);
        var bAsked = context.Now;
        var bLocks = b.LockAsync(LockName, ttl + TimeSpan.FromSeconds(30), cancellation);
        await context.SleepAsync(ttl + TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        var renewedWhileWaiting = a.KeepAlives.Count(k => k.Sent >= bAsked && k.Renewed);
        context.Expect(
            "while A's lease is kept alive B waits, for longer than a whole TTL: with no partition the lock excludes",
            !bLocks.IsCompleted && renewedWhileWaiting > 0,
            $"B, through n{b.Node}, {(bLocks.IsCompleted ? "was answered" : "still waiting")} after {(context.Now - bAsked).TotalMilliseconds:0} ms; {renewedWhileWaiting} of A's keep-alives renewed the lease meanwhile");

        var leaderAtCut = await FollowerAtCutAsync(context, a, b).ConfigureAwait(false);
        var bound = ttl + TimeSpan.FromSeconds(1) + Slack;
        context.Theory($"isolating n{a.Node}: A's side is 1 of 3 and the leader n{leaderAtCut} is on the other. A's keep-alives reach only n{a.Node}, which cannot forward them to a leader, so the leader hears none: it expires A's lease {ttlSeconds} s after the last one (never earlier; at most 1 s later on a healthy majority), deleting A's key in a revision of its own. B's key is then the oldest: B holds the lock. Nothing can tell A: its member cannot learn of that revision.");
        var isolating = context.Now;
        context.Lab.AddFault(Fault.Isolate(a.Node));
        var cut = context.Now; // the fault is in force from here
        context.Say($"isolated n{a.Node}, A's member (its rules took {(cut - isolating).TotalMilliseconds:0} ms to put in place)");

        string? bFailure = null;
        try
        {
            await bLocks.ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            bFailure = e.StatusCode.ToString();
        }

        var acquired = context.Now;
        var lastRenewed = a.KeepAlives.LastOrDefault(k => k.Renewed);
        if (bFailure is null)
            context.Say($"B holds {LockName}: key {b.OwnerKey.ToStringUtf8()}, token {b.Token}");
        context.Expect(
            $"A's lease expires on the majority no earlier than its TTL after A's last renewed keep-alive was sent, and no later than TTL + 1 s after the cut (+ {Slack.TotalSeconds:0} s slack for a loaded host)",
            bFailure is null && lastRenewed is not null && acquired - lastRenewed.Sent >= ttl && acquired - cut <= bound,
            bFailure is not null || lastRenewed is null
                ? $"B's lock {(bFailure is null ? "came, but A's lease was never renewed" : "failed: " + bFailure)}"
                : $"B got the lock {(acquired - lastRenewed.Sent).TotalMilliseconds:0} ms after A's last renewed keep-alive was sent and {(acquired - cut).TotalMilliseconds:0} ms after the cut (TTL {ttl.TotalMilliseconds:0} ms)");
        if (bFailure is not null)
            return;
        context.Expect(
            "B's token is larger than A's: the lock key B holds was created later",
            b.Token > a.Token,
            $"A's token {a.Token}, B's token {b.Token}");

        await ExpectBothBelieveAsync(context, a, cut).ConfigureAwait(false);
        await WriteAsync(context, a, b, aFencedBefore).ConfigureAwait(false);
    }

    /// <summary>
    /// The moment B holds the lock: A's own member still shows A's key, and A can learn nothing newer — its
    /// keep-alives fail instead of saying the lease is gone, and a linearizable read needs the majority it cannot reach.
    /// </summary>
    private static async Task ExpectBothBelieveAsync(ScenarioContext context, LockContender a, TimeSpan cut)
    {
        var local = await Attempt(() => a.SeesOwnKeyLocallyAsync(context.Cancellation)).ConfigureAwait(false);
        var linearizable = await Attempt(() => a.SeesOwnKeyAsync(context.Cancellation)).ConfigureAwait(false);
        // B can be answered before any keep-alive A sent after the cut has failed (putting the fault in force takes
        // a while on a loaded host, and a failing keep-alive takes its deadline): wait for one to come back.
        var deadline = context.Now + a.KeepAliveInterval + CallTimeout + Slack;
        while (context.Now < deadline && !a.KeepAlives.Any(k => k.Sent >= cut))
            await context.SleepAsync(TimeSpan.FromMilliseconds(50)).ConfigureAwait(false);
        var since = a.KeepAlives.Where(k => k.Sent >= cut).ToList();
        var failures = string.Join(", ", since.Where(k => !k.Renewed).GroupBy(k => k.Error ?? $"TTL {k.Ttl}").Select(g => $"{g.Key} ×{g.Count()}"));
        var localSays = local.Value switch
        {
            true => "still has A's key",
            false => "no longer has A's key",
            null => "failed: " + local.Error,
        };
        var linearizableSays = linearizable.Value switch
        {
            true => "answered: A's key is there",
            false => "answered: A's key is gone",
            null => "failed: " + linearizable.Error,
        };
        context.Expect(
            "at that moment both believe they hold the lock: B's Lock has returned, while A's member still shows A's key and A can learn nothing newer (its keep-alives and linearizable reads fail rather than answer)",
            local.Value == true && linearizable.Error is not null && since.Count > 0 && since.All(k => k.Ttl is null),
            $"n{a.Node}'s own state (serializable read) {localSays}; a linearizable read through n{a.Node} {linearizableSays}; {since.Count} keep-alives since the cut, {since.Count(k => k.Renewed)} renewed ({failures})");
    }

    /// <summary>Both write the shared keys: B now, A's delayed writes once the partition heals.</summary>
    private static async Task WriteAsync(ScenarioContext context, LockContender a, LockContender b, bool aFencedBefore)
    {
        var cancellation = context.Cancellation;
        var store = new TokenCheckingStore();
        context.Theory("each client writes the shared resource when it believes it holds the lock. B writes now; A's writes were sent before A could know and arrive late — delayed by the partition here, by a GC pause or a slow link elsewhere; no check of the lock just before a write closes that gap. A plain put carries no proof of the lock, so whichever write comes last wins. A fenced write carries the token: in etcd a Txn compares the lock key's create revision with it, and A's key was deleted by the expiry; a store outside etcd must itself refuse a token below the highest it has seen.");
        var bPlain = await b.PutAsync(PlainKey, $"B, token {b.Token}", cancellation).ConfigureAwait(false);
        var bFenced = await b.FencedPutAsync(FencedKey, $"B, token {b.Token}", cancellation).ConfigureAwait(false);
        var bStored = store.TryWrite(b.Token, $"B, token {b.Token}");
        context.Say($"B wrote: plain put at revision {bPlain}; fenced Txn {(bFenced ? "accepted" : "refused")}; store outside etcd {(bStored ? "accepted" : "refused")}");

        context.Lab.Heal();
        var healed = context.Now;
        context.Say($"healed; A's writes, delayed until now, arrive through n{a.Node}");
        var converged = await context.WaitConvergedAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        context.Expect(
            "after heal all logs converge",
            converged is not null,
            converged is { } c ? $"all 3 at applied index {c.Applied} after {c.Took.TotalMilliseconds:0} ms" : "not converged in 30 s");

        var aPlain = await Retried(() => a.PutAsync(PlainKey, $"A, token {a.Token}", cancellation), context).ConfigureAwait(false);
        var aFenced = await Retried(() => a.FencedPutAsync(FencedKey, $"A, token {a.Token}, after the partition", cancellation), context).ConfigureAwait(false);
        var aStored = store.TryWrite(a.Token, $"A, token {a.Token}");
        var (plainValue, _) = await context.Lab.Client.GetAsync(b.Node, PlainKey, TimeSpan.FromSeconds(5), cancellation: cancellation).ConfigureAwait(false);
        var (fencedValue, _) = await context.Lab.Client.GetAsync(b.Node, FencedKey, TimeSpan.FromSeconds(5), cancellation: cancellation).ConfigureAwait(false);
        context.Say($"A wrote: plain put {(aPlain.Error is null ? $"at revision {aPlain.Value}" : "failed: " + aPlain.Error)}; fenced Txn {(aFenced.Error is null ? aFenced.Value == true ? "accepted" : "refused" : "failed: " + aFenced.Error)}; store outside etcd {(aStored ? "accepted" : "refused")}");

        context.Expect(
            "without a fence the lock does not exclude: A's plain write, made after B took the lock, is accepted and overwrites B's",
            aPlain.Value > bPlain && plainValue == $"A, token {a.Token}",
            $"B's put at revision {bPlain}, A's {(aPlain.Value is { } r ? $"at revision {r}" : "failed: " + aPlain.Error)}; {PlainKey} = '{plainValue}'");
        context.Expect(
            "A's fenced write is refused: its lock key no longer exists with A's token (the same Txn was accepted before the partition)",
            aFencedBefore && aFenced.Value == false,
            $"before the partition {(aFencedBefore ? "accepted" : "refused")}; after B took the lock {(aFenced.Error is null ? aFenced.Value == true ? "accepted" : "refused" : "failed: " + aFenced.Error)}");
        context.Expect(
            "B's fenced write is accepted, and the fenced key ends with B's value",
            bFenced && fencedValue == $"B, token {b.Token}",
            $"B's Txn {(bFenced ? "accepted" : "refused")}; {FencedKey} = '{fencedValue}'");
        context.Expect(
            "a store outside etcd that refuses tokens below the highest it has seen refuses A's late write as well",
            bStored && !aStored && store.Value == $"B, token {b.Token}",
            $"B's write (token {b.Token}) {(bStored ? "accepted" : "refused")}, A's (token {a.Token}) {(aStored ? "accepted" : "refused")}; the store holds '{store.Value}'");

        var told = await WaitToldAsync(context, a, healed).ConfigureAwait(false);
        context.Expect(
            "A learns only after the heal that it lost the lock: its next keep-alive is answered TTL 0 (no such lease)",
            told is not null,
            told is { } k ? $"keep-alive sent {(k.Sent - healed).TotalMilliseconds:0} ms after the heal answered TTL 0" : "no keep-alive answered TTL 0 after the heal");
        await b.UnlockAsync(cancellation).ConfigureAwait(false);
        context.Say("B released the lock");
    }

    /// <summary>
    /// The leader just before the cut, made sure not to be A's member: a loaded host can see an election in the
    /// first seconds, and an isolated leader answers keep-alives itself until it steps down, renewals the majority
    /// never hears of. The story needs A's member to be a follower, so leadership is moved to B's member if needed.
    /// </summary>
    private static async Task<int> FollowerAtCutAsync(ScenarioContext context, LockContender a, LockContender b)
    {
        var leader = await context.LeaderAsync().ConfigureAwait(false);
        if (leader != a.Node)
            return leader;
        var target = (await context.StatusesAsync([b.Node]).ConfigureAwait(false))[0]
            ?? throw new LabException($"n{b.Node} does not answer; cannot move leadership to it");
        context.Say($"n{a.Node}, A's member, leads now; moving leadership to n{b.Node} so that the cut isolates a follower");
        await new Maintenance.MaintenanceClient(context.Lab.Client.Channel(a.Node))
            .MoveLeaderAsync(new MoveLeaderRequest { TargetID = target.MemberId }, deadline: DateTime.UtcNow + TimeSpan.FromSeconds(10), cancellationToken: context.Cancellation)
            .ResponseAsync.ConfigureAwait(false);
        int[] others = [.. context.Lab.Layout.Nodes.Select(n => n.Number).Where(n => n != a.Node)];
        var moved = await context.WaitLeaderAmongAsync(others, TimeSpan.FromSeconds(10)).ConfigureAwait(false)
            ?? throw new LabException($"no member but n{a.Node} led within 10 s of moving leadership");
        // The new leader extended every lease by an election timeout when it took over; once A has renewed after
        // that extension ran out, A's lease ends a TTL after its last keep-alive again, as the bound assumes.
        await context.SleepAsync(context.ElectionTimeout + a.KeepAliveInterval).ConfigureAwait(false);
        context.Say($"n{moved.Leader} leads");
        return moved.Leader;
    }

    /// <summary>etcd's minimum lease TTL is 1.5 election timeouts rounded up; 3 s keeps the scenario short above it.</summary>
    private static long LeaseTtlSeconds(TimeSpan electionTimeout) => Math.Max(3, (long)Math.Ceiling(1.5 * electionTimeout.TotalSeconds));

    /// <summary>The first keep-alive of A sent after <paramref name="healed"/> that was answered TTL 0, waiting up to 10 s.</summary>
    private static async Task<KeepAliveRecord?> WaitToldAsync(ScenarioContext context, LockContender a, TimeSpan healed)
    {
        var deadline = context.Now + TimeSpan.FromSeconds(10);
        while (context.Now < deadline)
        {
            var told = a.KeepAlives.FirstOrDefault(k => k.Sent >= healed && k.Ttl == 0);
            if (told is not null)
                return told;
            await context.SleepAsync(TimeSpan.FromMilliseconds(100)).ConfigureAwait(false);
        }

        return null;
    }

    /// <summary>A call's answer, or the status it failed with.</summary>
    private static async Task<(T? Value, string? Error)> Attempt<T>(Func<Task<T>> call)
        where T : struct
    {
        try
        {
            return (await call().ConfigureAwait(false), null);
        }
        catch (RpcException e)
        {
            return (null, e.StatusCode.ToString());
        }
    }

    /// <summary>A client's write retried for up to 10 s, as a client retries one its member could not yet pass on.</summary>
    private static async Task<(T? Value, string? Error)> Retried<T>(Func<Task<T>> call, ScenarioContext context)
        where T : struct
    {
        var deadline = context.Now + TimeSpan.FromSeconds(10);
        while (true)
        {
            var answer = await Attempt(call).ConfigureAwait(false);
            if (answer.Error is null || context.Now >= deadline)
                return answer;
            await context.SleepAsync(TimeSpan.FromMilliseconds(100)).ConfigureAwait(false);
        }
    }
}
