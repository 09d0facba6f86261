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
        var path = settings.HistoryPath ?? Path.Combine(lab.Directory, "history.jsonl");
        HistoryJson.WriteFile(history, path);
        Log($"[{clock.Elapsed.TotalSeconds,6:0.0}s] {history.Count} operations written to {path}; checking...");
        var result = Linearizability.Check(history, new CheckOptions { Timeout = settings.CheckerBudget }, cancellation);

        var report = new CheckReport(history, nemesis.Events, healed, stopped, finals, keys.Length, result, replicas);
        output.Write(report.Render());
        return report.Passed;
    }
}
