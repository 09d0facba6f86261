using Grpc.Core;

namespace Kvorum.Lab.Scenarios;

/// <summary>
/// Quorum: a write acknowledged with every member up is read back from every set of 3 of the 5, because any two
/// majorities share a member; with 3 of 5 stopped nothing can be written or read linearizably.
/// </summary>
internal sealed class QuorumIntersectionScenario : IScenario
{
    private static readonly TimeSpan ReadDeadline = TimeSpan.FromSeconds(6);
    private static readonly TimeSpan RefusedDeadline = TimeSpan.FromSeconds(2);

    /// <inheritdoc/>
    public string Name => "quorum-intersection";

    /// <inheritdoc/>
    public string Summary => "quorum: a write is read back from every 3 of 5 members (any two majorities intersect); with 3 stopped nothing is written or read";

    /// <inheritdoc/>
    public async Task RunAsync(ScenarioContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await context.UpAsync(5).ConfigureAwait(false);
        var lab = context.Lab;
        int[] all = [.. lab.Layout.Nodes.Select(n => n.Number)];
        var leader = await context.LeaderAsync().ConfigureAwait(false);
        var key = $"quorum/{Guid.NewGuid():N}"[..20];
        var value = $"written-at-{context.Now.TotalMilliseconds:0}ms";
        await lab.Client.PutAsync(leader, key, value, TimeSpan.FromSeconds(5), context.Cancellation).ConfigureAwait(false);
        context.Say($"put {key} = {value} through n{leader}, acknowledged with all 5 up");

        context.Theory("a write is acknowledged once a majority (3 of 5) holds it, and a leader is elected only by a majority, whose votes go only to a candidate holding every committed entry (§5.4). Any two majorities of 5 share at least one member (3 + 3 > 5), so whichever 2 members stop, the 3 left include one that holds the write, and the leader they elect has it: a linearizable read through any of them returns it.");
        var pairs = (from a in all from b in all where a < b select new[] { a, b }).ToList();
        var found = 0;
        var reads = 0;
        var elections = 0;
        var failures = new List<string>();
        foreach (var stopped in pairs)
        {
            int[] left = [.. all.Except(stopped)];
            var leaderBefore = await context.LeaderAsync().ConfigureAwait(false);
            foreach (var n in stopped)
                lab.Pause(n);
            var electedNote = "";
            if (stopped.Contains(leaderBefore))
            {
                elections++;
                var elected = await context.WaitLeaderAmongAsync(left, ReadDeadline).ConfigureAwait(false);
                electedNote = elected is { } e ? $" (the leader n{leaderBefore}: the others elected n{e.Leader})" : $" (the leader n{leaderBefore}: the others elected none in {ReadDeadline.TotalSeconds:0} s)";
            }

            var answers = new List<string>();
            foreach (var n in left)
            {
                reads++;
                var (read, error) = await ReadAsync(context, n, key).ConfigureAwait(false);
                if (read == value)
                    found++;
                else
                    failures.Add($"n{n} with {MinorityPartitionScenario.Group(stopped)} stopped: {error ?? read ?? "nothing"}");
                answers.Add($"n{n} {(read == value ? "has it" : error ?? "MISSING")}");
            }

            context.Say($"stopped {MinorityPartitionScenario.Group(stopped)}{electedNote}; linearizable reads: {string.Join(", ", answers)}");
            foreach (var n in stopped)
                lab.Resume(n);
        }

        context.Expect(
            "every linearizable read from every 3 of the 5 returns the write",
            found == reads && reads == 30,
            $"{found} of {reads} reads over all {pairs.Count} ways of stopping 2 returned it ({elections} of them stopped the leader, so a new one was elected first){(failures.Count > 0 ? "; " + string.Join("; ", failures) : "")}");

        await context.LeaderAsync().ConfigureAwait(false);
        context.Theory("with 3 of 5 stopped, the 2 left are no majority: they can neither elect a leader nor confirm one, so writes and linearizable reads must fail or time out rather than answer.");
        int[] three = [.. all.Take(3)];
        int[] two = [.. all.Skip(3)];
        foreach (var n in three)
            lab.Pause(n);
        context.Say($"stopped {MinorityPartitionScenario.Group(three)}; writing and reading through {MinorityPartitionScenario.Group(two)} ({RefusedDeadline.TotalSeconds:0} s deadline)");
        var outcomes = new List<string>();
        var succeeded = 0;
        foreach (var n in two)
        {
            var put = await CallOutcome.Of(() => lab.Client.PutAsync(n, key, "after-quorum-lost", RefusedDeadline, context.Cancellation)).ConfigureAwait(false);
            var get = await CallOutcome.Of(() => lab.Client.GetAsync(n, key, RefusedDeadline, cancellation: context.Cancellation)).ConfigureAwait(false);
            succeeded += (put is null ? 1 : 0) + (get is null ? 1 : 0);
            outcomes.Add($"n{n} put {put ?? "succeeded"}, get {get ?? "succeeded"}");
        }

        context.Expect(
            "with 3 of 5 stopped no write and no linearizable read succeeds",
            succeeded == 0,
            string.Join("; ", outcomes));
        foreach (var n in three)
            lab.Resume(n);

        var converged = await context.WaitConvergedAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        var (final, _) = await lab.Client.GetAsync(await context.LeaderAsync().ConfigureAwait(false), key, TimeSpan.FromSeconds(5), cancellation: context.Cancellation).ConfigureAwait(false);
        context.Expect(
            "once all 5 run again they elect a leader and converge",
            converged is not null,
            converged is { } c ? $"all 5 at applied index {c.Applied} after {c.Took.TotalMilliseconds:0} ms" : "not converged in 30 s");
        context.Say($"{key} = {final} (a write that timed out is indeterminate: a leader that appended it before losing its majority may still commit it)");
    }

    /// <summary>
    /// A linearizable read through <paramref name="node"/>, asked again while the member answers that it knows no
    /// leader yet (a new one is being elected), up to the read deadline.
    /// </summary>
    private static async Task<(string? Value, string? Error)> ReadAsync(ScenarioContext context, int node, string key)
    {
        var deadline = context.Now + ReadDeadline;
        while (true)
        {
            try
            {
                var (value, _) = await context.Lab.Client.GetAsync(node, key, ReadDeadline, cancellation: context.Cancellation).ConfigureAwait(false);
                return (value, null);
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && context.Now < deadline)
            {
                await context.SleepAsync(TimeSpan.FromMilliseconds(50)).ConfigureAwait(false);
            }
            catch (RpcException e)
            {
                return (null, e.StatusCode.ToString());
            }
        }
    }
}
