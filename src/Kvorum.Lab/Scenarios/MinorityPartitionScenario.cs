using Kvorum.Lab.Faults;

namespace Kvorum.Lab.Scenarios;

/// <summary>CAP: a partition with the leader on the minority side. The minority refuses; the majority serves.</summary>
internal sealed class MinorityPartitionScenario : IScenario
{
    /// <inheritdoc/>
    public string Name => "minority-partition";

    /// <inheritdoc/>
    public string Summary => "CAP: split 2/3 with the leader in the minority; the minority refuses writes and linearizable reads, the majority serves";

    /// <inheritdoc/>
    public async Task RunAsync(ScenarioContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await context.UpAsync(5).ConfigureAwait(false);
        var leader = await context.LeaderAsync().ConfigureAwait(false);
        int[] all = [.. context.Lab.Layout.Nodes.Select(n => n.Number)];
        int[] minority = [leader, all.First(n => n != leader)];
        int[] majority = [.. all.Except(minority)];
        var load = context.StartLoad(reads: true);
        await using (load.ConfigureAwait(false))
        {
            context.Say("a writer and a linearizable reader per member, back to back (1 s deadline)");
            await context.SleepAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);

            context.Theory("CAP: during a partition a system must give up consistency or availability. Raft keeps consistency: only a side with a majority (3 of 5) can commit or confirm leadership for a read, so the 2-node side — even holding the leader — must fail or time out every write and linearizable read, while the 3-node side elects a leader and serves.");
            context.Lab.AddFault(Fault.Partition([minority, majority]));
            var cut = context.Now; // the fault is in force from here
            context.Say($"partitioned {Group(minority)} (minority, with leader n{leader}) / {Group(majority)} (majority)");

            var elected = await context.WaitLeaderAmongAsync(majority, 4 * context.ElectionTimeout + TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            context.Say(elected is { } e ? $"majority elected n{e.Leader} after {(e.At - cut).TotalMilliseconds:0} ms" : "the majority elected no leader");
            await context.SleepAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
            var healAt = context.Now;

            var minorityCalls = load.Invoked(cut, healAt, writes: null).Where(r => minority.Contains(r.Node)).ToList();
            var majorityWrites = load.Invoked(elected?.At ?? healAt, healAt).Where(r => majority.Contains(r.Node)).ToList();
            var majorityReads = load.Invoked(elected?.At ?? healAt, healAt, writes: false).Where(r => majority.Contains(r.Node)).ToList();
            context.Expect(
                "no write or linearizable read sent to the minority succeeds",
                minorityCalls.Count > 0 && minorityCalls.All(r => !r.Ok),
                $"{minorityCalls.Count(r => r.Ok)} of {minorityCalls.Count(r => r.IsWrite)} writes and {minorityCalls.Count(r => !r.IsWrite)} reads on {Group(minority)} succeeded");
            context.Expect(
                "the majority elects a leader and keeps serving writes and reads",
                elected is not null && majorityWrites.Any(r => r.Ok) && majorityReads.Any(r => r.Ok),
                $"{majorityWrites.Count(r => r.Ok)} writes and {majorityReads.Count(r => r.Ok)} reads succeeded on {Group(majority)} after the election");

            context.Lab.Heal();
            context.Say("healed; stopping the clients");
            await load.DisposeAsync().ConfigureAwait(false);
            var converged = await context.WaitConvergedAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            context.Expect(
                "after heal all logs converge",
                converged is not null,
                converged is { } c ? $"all 5 at applied index {c.Applied} after {c.Took.TotalMilliseconds:0} ms" : "not converged in 30 s");
        }
    }

    internal static string Group(IEnumerable<int> nodes) => "{" + string.Join(',', nodes.Select(n => $"n{n}")) + "}";
}
