using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace Kvorum.Server.Tests.Node.Agreement;

/// <summary>
/// Replica agreement as the oracle (issue 19): members' real loops and real storage on an in-memory network
/// (<see cref="ChaosCluster"/>, <see cref="ChaosNetwork"/>) under random loss, partitions, restarts, leadership
/// transfers and membership changes (<see cref="AgreementNemesis"/>), with a snapshot every few dozen entries so that
/// snapshots are taken and sent all the time to followers that lag, while clients put random keys
/// (<see cref="AgreementClients"/>). Then everything is healed and the members must agree, and hold every
/// acknowledged write (<see cref="AgreementCheck"/>).
/// <para>Seeds: <c>KVORUM_AGREE_SEEDS</c> (default 4, seeds 1..N) of <c>KVORUM_AGREE_SECONDS</c> of faults each
/// (default 15); <c>KVORUM_AGREE_SEED=n</c> runs seed n alone. A failure prints the command that replays its seed.</para>
/// </summary>
public sealed class AgreementTests(ITestOutputHelper output)
{
    private const int Clients = 6;

    // A snapshot every 10 applied entries, or when the entries since the last one add up to half its size,
    // whichever comes later (SnapshotSchedule.LogShare): with the compactor's short history, every few dozen entries.
    private const ulong SnapshotCount = 10;

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : fallback;

    [Fact]
    public async Task Replicas_agree_and_keep_every_acknowledged_write_under_faults()
    {
        var seconds = Setting("KVORUM_AGREE_SECONDS", 15);
        var one = Setting("KVORUM_AGREE_SEED", 0);
        var seeds = one > 0 ? [one] : Enumerable.Range(1, Setting("KVORUM_AGREE_SEEDS", 4)).ToArray();
        foreach (var seed in seeds)
        {
            var log = new List<string>();
            try
            {
                await RunSeedAsync(seed, TimeSpan.FromSeconds(seconds), log);
            }
            catch (Exception e)
            {
                throw new InvalidOperationException(
                    $"seed {seed} failed; replay with: KVORUM_AGREE_SEED={seed} KVORUM_AGREE_SECONDS={seconds} dotnet test tests/Kvorum.Server.Tests --filter FullyQualifiedName~AgreementTests\n"
                    + $"{e.Message}\nthe run, last lines:\n{string.Join('\n', log.TakeLast(60))}", e);
            }
        }
    }

    private async Task RunSeedAsync(int seed, TimeSpan duration, List<string> log)
    {
        var started = Stopwatch.StartNew();
        void Log(string line)
        {
            lock (log)
                log.Add($"{started.Elapsed.TotalSeconds,7:F2} {line}");
        }

        var random = new Random(seed);
        // Few entries kept behind a snapshot (etcd keeps 5000), or none: a follower a little behind is sent a snapshot.
        var catchUp = (ulong)(random.Next(3) * 50);
        await using var cluster = ChaosCluster.Start(voters: 1 + 2 * random.Next(2), SnapshotCount, catchUp);
        Log($"seed {seed}: {cluster.Members.Count} voters, {catchUp} entries kept behind a snapshot");
        var clients = new AgreementClients(cluster, seed);
        var nemesis = new AgreementNemesis(cluster, random, Log);
        using var monitor = new AppliedStateMonitor(cluster);
        monitor.Start();
        using var stop = new CancellationTokenSource();
        var writing = clients.RunAsync(Clients, stop.Token);
        try
        {
            await nemesis.RunAsync(duration);
        }
        finally
        {
            await stop.CancelAsync();
            await writing;
        }
        Log($"faults over: {AgreementCheck.Describe(cluster)}");
        var members = await AgreementCheck.SettleAsync(cluster, nemesis, TimeSpan.FromSeconds(60), Log);
        Log($"settled: {AgreementCheck.Describe(cluster)}");
        List<string> failures;
        lock (cluster.Failures)
            failures = [.. cluster.Failures];
        failures.AddRange(monitor.Stop());
        var samples = monitor.Samples;
        await AgreementCheck.VerifyAsync(members, clients.Acked, failures);

        var (delivered, dropped, snapshots, snapshotsFailed) = cluster.Network.Counters;
        output.WriteLine(
            $"seed {seed}: {clients.Acked.Count} of {clients.Attempted} puts acknowledged, {members.Count} members at the end "
            + $"({members.Count(m => m.Node!.Status.IsLearner)} learners), {cluster.Restarts} restarts, {nemesis.Transfers} transfers, "
            + $"{nemesis.MembershipChanges} membership changes tried, {cluster.SnapshotsTaken} snapshots taken, {snapshots} sent ({snapshotsFailed} failed), "
            + $"{delivered} messages delivered, {dropped} lost, {samples} applied indexes sampled, {started.Elapsed.TotalSeconds:F1} s");
        lock (log)
            output.WriteLine(string.Join('\n', log));
        Assert.NotEmpty(clients.Acked);
    }
}
