using System.Collections.Concurrent;
using System.Globalization;
using Grpc.Core;
using Kvorum.Lab.Faults;

namespace Kvorum.Lab.Scenarios;

/// <summary>
/// CAP: during a minority partition the minority's linearizable reads and writes fail (consistency chosen), while
/// its serializable reads keep answering with a value that grows older (availability chosen); how old is measured.
/// </summary>
internal sealed class CapChoiceScenario : IScenario
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Partitioned = TimeSpan.FromSeconds(4);

    /// <inheritdoc/>
    public string Name => "cap-choice";

    /// <inheritdoc/>
    public string Summary => "CAP: on the minority side linearizable calls fail (C), serializable reads answer (A) with values that grow older";

    /// <inheritdoc/>
    public async Task RunAsync(ScenarioContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await context.UpAsync(5).ConfigureAwait(false);
        var lab = context.Lab;
        var leader = await context.LeaderAsync().ConfigureAwait(false);
        int[] all = [.. lab.Layout.Nodes.Select(n => n.Number)];
        int[] minority = [.. all.Where(n => n != leader).Take(2)];
        int[] majority = [.. all.Except(minority)];
        var key = $"cap/{Guid.NewGuid():N}"[..16];
        var acknowledged = new ConcurrentDictionary<long, TimeSpan>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.Cancellation);
        var writer = Task.Run(() => WriteAsync(context, leader, key, acknowledged, stop.Token));
        try
        {
            context.Say($"a writer puts {key} = 1, 2, 3, ... through n{leader}, back to back (1 s deadline)");
            await context.SleepAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
            var before = await SerializableAgeAsync(context, minority[0], key, acknowledged).ConfigureAwait(false);
            context.Say($"before the partition a serializable read on n{minority[0]} returns {Describe(before)}");

            context.Theory($"CAP: while the network is partitioned, a member must either refuse (keep Consistency) or answer from what it has (keep Availability). Raft's linearizable calls choose C: {MinorityPartitionScenario.Group(minority)}, 2 of 5, cannot commit or confirm a leader, so they fail. etcd's serializable read chooses A: a member answers from its own state, which stops changing at the cut while the majority {MinorityPartitionScenario.Group(majority)} writes on — the answer stays available and grows older.");
            lab.AddFault(Fault.Partition([minority, majority]));
            var cut = context.Now;
            context.Say($"partitioned {MinorityPartitionScenario.Group(minority)} / {MinorityPartitionScenario.Group(majority)} with leader n{leader} in the majority, for {Partitioned.TotalSeconds:0} s");

            var serializable = new List<(int Node, TimeSpan At, long? Value, TimeSpan? Age)>();
            using var partitionOver = CancellationTokenSource.CreateLinkedTokenSource(context.Cancellation);
            var probes = Task.Run(() => LinearizableProbesAsync(context, minority, key + "/minority", partitionOver.Token));
            while (context.Now - cut < Partitioned)
            {
                foreach (var n in minority)
                {
                    var read = await SerializableAgeAsync(context, n, key, acknowledged).ConfigureAwait(false);
                    serializable.Add((n, context.Now - cut, read.Value, read.Age));
                }

                await context.SleepAsync(TimeSpan.FromMilliseconds(100)).ConfigureAwait(false);
            }

            await partitionOver.CancelAsync().ConfigureAwait(false);
            var refused = await probes.ConfigureAwait(false);
            var linearizableCalls = refused.Count;
            var linearizableOk = refused.Count(r => r is null);
            var majorityWrites = acknowledged.Count(a => a.Value >= cut);
            context.Expect(
                "consistency on the minority side: no linearizable read or write succeeds",
                linearizableCalls > 0 && linearizableOk == 0,
                $"{linearizableOk} of {linearizableCalls} succeeded; {string.Join(", ", refused.OfType<string>().GroupBy(r => r).Select(g => $"{g.Key} ×{g.Count()}"))}");
            var answered = serializable.Count(s => s.Value is not null);
            context.Expect(
                "availability on the minority side: every serializable read answers",
                serializable.Count > 0 && answered == serializable.Count,
                $"{answered} of {serializable.Count} serializable reads on {MinorityPartitionScenario.Group(minority)} answered");

            var last = serializable.Where(s => s.Age is not null).GroupBy(s => s.Node).Select(g => g.Last()).ToList();
            var frozen = serializable.Where(s => s.At > TimeSpan.FromSeconds(1)).GroupBy(s => s.Node).All(g => g.Select(s => s.Value).Distinct().Count() == 1);
            context.Say($"meanwhile the majority acknowledged {majorityWrites} writes (the key reached {(acknowledged.IsEmpty ? 0 : acknowledged.Keys.Max())})");
            foreach (var s in last)
                context.Say($"n{s.Node} still answers {key} = {s.Value}, a value {s.Age!.Value.TotalMilliseconds:0} ms old, {acknowledged.Keys.Max() - s.Value} writes behind");
            context.Expect(
                "the price: what the minority serves stops changing and its age grows with the partition",
                last.Count == minority.Length && frozen && majorityWrites > 0 && last.All(s => s.Age >= Partitioned - TimeSpan.FromSeconds(1.5)),
                string.Join("; ", last.Select(s => $"n{s.Node} {s.Age!.Value.TotalMilliseconds:0} ms old after {Partitioned.TotalMilliseconds:0} ms of partition")));

            lab.Heal();
            var healed = context.Now;
            context.Say("healed");
            TimeSpan? fresh = null;
            while (context.Now - healed < TimeSpan.FromSeconds(10) && fresh is null)
            {
                var reads = await Task.WhenAll(minority.Select(n => SerializableAgeAsync(context, n, key, acknowledged))).ConfigureAwait(false);
                if (reads.All(r => r.Age < TimeSpan.FromSeconds(1)))
                    fresh = context.Now - healed;
                else
                    await context.SleepAsync(TimeSpan.FromMilliseconds(50)).ConfigureAwait(false);
            }

            context.Expect(
                "after the heal the minority catches up: its serializable reads are fresh again (under 1 s old)",
                fresh is not null,
                fresh is { } f ? $"within {f.TotalMilliseconds:0} ms of the heal" : "still stale 10 s after the heal");
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await writer.ConfigureAwait(false);
        }
    }

    private static async Task WriteAsync(ScenarioContext context, int node, string key, ConcurrentDictionary<long, TimeSpan> acknowledged, CancellationToken stop)
    {
        long next = 1;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await context.Lab.Client.PutAsync(node, key, next.ToString(CultureInfo.InvariantCulture), Deadline, stop).ConfigureAwait(false);
                acknowledged[next] = context.Now;
                next++;
            }
            catch (RpcException) when (!stop.IsCancellationRequested)
            {
                await Task.Delay(25, CancellationToken.None).ConfigureAwait(false);
            }
            catch (RpcException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// A linearizable read and a write through each minority member, again and again until <paramref name="stop"/>;
    /// each waits up to its deadline. The writes go to a key of their own: one that times out may still take effect
    /// after the heal, and must not disturb the counter.
    /// </summary>
    /// <returns>How each call ended: null for success, else its status.</returns>
    private static async Task<List<string?>> LinearizableProbesAsync(ScenarioContext context, int[] minority, string key, CancellationToken stop)
    {
        var outcomes = new List<string?>();
        while (!stop.IsCancellationRequested)
        {
            foreach (var n in minority.TakeWhile(_ => !stop.IsCancellationRequested))
            {
                outcomes.Add(await CallOutcome.Of(() => context.Lab.Client.GetAsync(n, key, Deadline, cancellation: context.Cancellation)).ConfigureAwait(false));
                outcomes.Add(await CallOutcome.Of(() => context.Lab.Client.PutAsync(n, key, "written-on-the-minority-side", Deadline, context.Cancellation)).ConfigureAwait(false));
            }

            await Task.Delay(50, CancellationToken.None).ConfigureAwait(false);
        }

        return outcomes;
    }

    /// <summary>A serializable read of the counter and how long ago the value it returns was acknowledged.</summary>
    private static async Task<(long? Value, TimeSpan? Age)> SerializableAgeAsync(ScenarioContext context, int node, string key, ConcurrentDictionary<long, TimeSpan> acknowledged)
    {
        try
        {
            var (text, _) = await context.Lab.Client.GetAsync(node, key, Deadline, serializable: true, context.Cancellation).ConfigureAwait(false);
            if (text is null || !long.TryParse(text, CultureInfo.InvariantCulture, out var value))
                return (0, null);
            // A value read before its put was acknowledged is younger than any acknowledged one.
            return (value, acknowledged.TryGetValue(value, out var at) ? context.Now - at : TimeSpan.Zero);
        }
        catch (RpcException)
        {
            return (null, null);
        }
    }

    private static string Describe((long? Value, TimeSpan? Age) read) =>
        read.Value is null ? "no answer" : $"{read.Value}, {read.Age?.TotalMilliseconds ?? 0:0} ms old";
}
