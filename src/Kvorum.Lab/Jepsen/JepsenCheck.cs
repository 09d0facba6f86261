using System.Diagnostics;
using Kvorum.Lab.Checking;

namespace Kvorum.Lab.Jepsen;

/// <summary>
/// <c>kvorum lab check</c>: clients run random gets, puts and CAS against random members while the nemesis
/// breaks the network and the processes; then everything heals, the clients run on for the recovery period,
/// every key is read once more, the history is written as JSON lines and checked for linearizability.
/// </summary>
internal static class JepsenCheck
{
    /// <summary>Runs the check in a fresh lab and prints its summary.</summary>
    /// <param name="settings">Parameters.</param>
    /// <param name="output">Where the narration and summary go.</param>
    /// <param name="cancellation">Ctrl-C.</param>
    /// <returns>True when the history is linearizable and every final read succeeded and matches a write.</returns>
    public static async Task<bool> RunAsync(CheckSettings settings, TextWriter output, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(output);
        if (settings.SerializableReads)
            output.WriteLine("note: --serializable-reads: clients read members' local state, which may be stale; expect the checker to object");
        if (settings.Faults is { } faults && Nemesis.Validate(faults, settings.Lab.Nodes + settings.Lab.Learners) is { } wrong)
            throw new LabException(wrong);
        var learners = settings.Lab.Learners > 0 ? $" and {settings.Lab.Learners} learner{(settings.Lab.Learners > 1 ? "s" : "")}" : "";
        output.WriteLine($"=== kvorum lab check: {settings.Lab.Nodes} members{learners}, {settings.Clients} clients, {settings.Keys} keys at a time (fresh every {settings.KeyLifetime.TotalSeconds:0.#} s), {settings.Duration.TotalSeconds:0} s of {(settings.NoFaults ? "no faults" : "faults")}{(settings.Faults is { } kinds ? $" ({string.Join(", ", kinds)})" : "")}, seed {settings.Seed}");
        var lab = await LabControl.UpAsync(settings.Lab, TextWriter.Null, cancellation).ConfigureAwait(false);
        try
        {
            return await RunAsync(lab, settings, output, cancellation).ConfigureAwait(false);
        }
        finally
        {
            var directory = lab.Directory;
            lab.Dispose();
            if (settings.Keep)
                output.WriteLine($"lab left up (--keep); `kvorum lab down --dir {directory}` removes it");
            else
                LabControl.Down(directory, TextWriter.Null);
        }
    }

    private static async Task<bool> RunAsync(LabControl lab, CheckSettings settings, TextWriter output, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        var recorder = new HistoryRecorder(clock);
        void Log(string line)
        {
            lock (output)
                output.WriteLine(line);
        }

        Log($"[{clock.Elapsed.TotalSeconds,6:0.0}s] lab up ({string.Join(", ", lab.Layout.Nodes.Select(n => $"{n.Name} {n.Address}"))}); starting {settings.Clients} clients");
        using var stopClients = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        Task[] clients = [.. Enumerable.Range(0, settings.Clients).Select(i =>
            Task.Run(() => new CheckClient(lab.Client, recorder, i, settings.Clients, lab.VoterCount, settings.Keys, settings.KeyLifetime, settings.OperationTimeout, new Random(settings.Seed + (i * 7919)), settings.SerializableReads)
                .RunAsync(stopClients.Token)))];

        using var stopWatchers = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var watchers = StartWatchers(lab, settings, stopWatchers.Token);
        try
        {
            var nemesis = new Nemesis(lab, new Random(settings.Seed), clock, Log, settings.Faults);
            if (settings.NoFaults)
                await Task.Delay(settings.Duration, cancellation).ConfigureAwait(false);
            else
                await nemesis.RunAsync(settings.Duration, cancellation).ConfigureAwait(false);
            nemesis.RestoreAll();
            var healed = clock.Elapsed;
            Log($"[{healed.TotalSeconds,6:0.0}s] healed everything; clients run {settings.Recovery.TotalSeconds:0} s more");
            await Task.Delay(settings.Recovery, cancellation).ConfigureAwait(false);
            await stopClients.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(clients).ConfigureAwait(false);
            var stopped = clock.Elapsed;

            // The final state: every key read once more, through the leader, and checked with the rest.
            (var leader, _) = await lab.WaitForLeaderAsync(TimeSpan.FromSeconds(30), cancellation).ConfigureAwait(false);
            var finalReader = new CheckClient(lab.Client, recorder, -1, 0, lab.VoterCount, settings.Keys, settings.KeyLifetime, TimeSpan.FromSeconds(5), new Random(settings.Seed));
            var finals = new Dictionary<string, string?>();
            string[] keys = [.. recorder.ToHistory().Select(o => o.Key).Distinct().Order(StringComparer.Ordinal)];
            foreach (var key in keys)
            {
                for (var attempt = 0; attempt < 5 && !finals.ContainsKey(key); attempt++)
                {
                    var (ok, value) = await finalReader.GetAsync(leader, key).ConfigureAwait(false);
                    if (ok)
                        finals[key] = value;
                }
            }

            // Every member, caught up, must hold the same history as the leader.
            var replicas = await ReplicaAgreement.MeasureAsync(lab, leader, TimeSpan.FromSeconds(30), cancellation).ConfigureAwait(false);
            Log($"[{clock.Elapsed.TotalSeconds,6:0.0}s] {replicas.Describe()}");

            var history = recorder.ToHistory();
            WatchCheckResult? watched = null;
            if (settings.Watchers > 0)
            {
                watched = await CheckWatchersAsync(lab, leader, history, watchers, stopWatchers, cancellation).ConfigureAwait(false);
                Log($"[{clock.Elapsed.TotalSeconds,6:0.0}s] {watched.Watchers} watchers caught up or gave up; their events checked");
            }

            var path = settings.HistoryPath ?? Path.Combine(lab.Directory, "history.jsonl");
            HistoryJson.WriteFile(history, path);
            Log($"[{clock.Elapsed.TotalSeconds,6:0.0}s] {history.Count} operations written to {path}; checking...");
            var result = Linearizability.Check(history, new CheckOptions { Timeout = settings.CheckerBudget }, cancellation);

            var report = new CheckReport(history, nemesis.Events, healed, stopped, finals, keys.Length, result, replicas, watched);
            output.Write(report.Render());
            return report.Passed;
        }
        finally
        {
            // Also when the run fails early: no client or watcher goes on calling a lab that is being taken down.
            await stopClients.CancelAsync().ConfigureAwait(false);
            await stopWatchers.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Starts the watchers one by one over the first half of the run, so that some begin while faults are on:
    /// every other one replays the history from revision 1, the rest start "now"; every fourth sends etcd's
    /// require-leader metadata.
    /// </summary>
    private static List<(CheckWatcher Watcher, Task Run)> StartWatchers(LabControl lab, CheckSettings settings, CancellationToken stop)
    {
        var watchers = new List<(CheckWatcher, Task)>();
        if (settings.Watchers == 0)
            return watchers;
        var spacing = settings.Duration / 2 / settings.Watchers;
        for (var i = 0; i < settings.Watchers; i++)
        {
            var watcher = new CheckWatcher(lab.Client, new WatcherLog(i + 1), lab.VoterCount, fromFirstRevision: i % 2 == 0, requireLeader: i % 4 == 3, new Random(settings.Seed + 104_729 + i));
            var delay = spacing * i;
            watchers.Add((watcher, Task.Run(async () =>
            {
                try
                {
                    await Task.Delay(delay, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                await watcher.RunAsync(stop).ConfigureAwait(false);
            }, CancellationToken.None)));
        }

        return watchers;
    }

    /// <summary>
    /// Reads the final revision through the leader, gives the watchers up to 30 s to reach it, stops them, and checks
    /// what they saw against the history.
    /// </summary>
    private static async Task<WatchCheckResult> CheckWatchersAsync(LabControl lab, int leader, History history, List<(CheckWatcher Watcher, Task Run)> watchers, CancellationTokenSource stopWatchers, CancellationToken cancellation)
    {
        long finalRevision = 0;
        for (var attempt = 0; attempt < 5 && finalRevision == 0; attempt++)
        {
            try
            {
                finalRevision = await lab.Client.RevisionAsync(leader, TimeSpan.FromSeconds(5), cancellation).ConfigureAwait(false);
            }
            catch (Grpc.Core.RpcException) when (attempt < 4)
            {
                await Task.Delay(500, cancellation).ConfigureAwait(false);
            }
        }

        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30) && watchers.Any(w => w.Watcher.Log.Failure is null && !w.Run.IsCompleted && w.Watcher.Log.Reached < finalRevision))
            await Task.Delay(100, cancellation).ConfigureAwait(false);
        await stopWatchers.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(watchers.Select(w => w.Run)).ConfigureAwait(false);
        return WatchHistoryCheck.Check(history, [.. watchers.Select(w => w.Watcher.Log)], finalRevision);
    }
}
