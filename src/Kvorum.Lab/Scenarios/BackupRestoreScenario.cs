using System.Text.Json;
using Grpc.Core;
using Kvorum.Etcd.Serve;
using Kvorum.Lab.Host;
using Kvorum.Lab.Nodes;

namespace Kvorum.Lab.Scenarios;

/// <summary>Every member's data is lost; a new cluster starts from a backup of the leader.</summary>
/// <remarks>
/// The backup is read and restored with the kvorum executable's <c>snapshot status</c> and <c>snapshot restore</c>, as
/// an operator does it: the lab works the members through their command line and their API only.
/// </remarks>
internal sealed class BackupRestoreScenario : IScenario
{
    private const int WritesBefore = 100;
    private const int WritesAfter = 20;

    /// <inheritdoc/>
    public string Name => "backup-restore";

    /// <inheritdoc/>
    public string Summary => "back up the leader, lose every member and its data, restore a new cluster from the file: what was acknowledged before the backup is back, at its revisions";

    /// <inheritdoc/>
    public async Task RunAsync(ScenarioContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await context.UpAsync(3).ConfigureAwait(false);
        context.Theory("Raft keeps every acknowledged write through the loss of a minority; nothing survives the loss of every member and its disk but a copy made before. A backup of the leader holds every write it acknowledged before it was asked, since a leader applies a write before it answers. Writes acknowledged after the backup are lost with the members.");
        var client = context.Lab.Client;
        var timeout = TimeSpan.FromSeconds(5);
        var leader = await context.LeaderAsync().ConfigureAwait(false);

        var before = new List<(string Key, string Value, long Revision)>();
        for (var i = 0; i < WritesBefore; i++)
        {
            string key = $"dr/{i % 40:D2}", value = $"before {i}";
            before.Add((key, value, await client.PutAsync(leader, key, value, timeout, context.Cancellation).ConfigureAwait(false)));
        }
        var file = Path.Combine(context.Lab.Directory, "backup.snap");
        var bytes = await client.SaveSnapshotAsync(leader, file, TimeSpan.FromSeconds(60), context.Cancellation).ConfigureAwait(false);
        var summary = Summarize(context, file);
        context.Say($"{WritesBefore} writes acknowledged, then n{leader} (the leader) saved to {file}: revision {summary.Revision}, {bytes} bytes");
        var after = new List<string>();
        for (var i = 0; i < WritesAfter; i++)
        {
            var key = $"dr/after/{i:D2}";
            await client.PutAsync(leader, key, "after", timeout, context.Cancellation).ConfigureAwait(false);
            after.Add(key);
        }
        context.Say($"{WritesAfter} more writes acknowledged after the backup");

        int[] nodes = [.. context.Lab.Layout.Nodes.Select(n => n.Number)];
        foreach (var node in nodes)
        {
            context.Lab.Kill(node);
            Directory.Delete(context.Lab.Layout.Node(node).DataDir, recursive: true);
        }
        context.Say($"killed all {nodes.Length} members and deleted their data directories: no quorum, no copy of the log anywhere");

        foreach (var node in context.Lab.Layout.Nodes)
        {
            // Named as the member starts (https peer URLs under --tls): the restored member table is what it dials.
            var serve = context.Lab.ServeArguments(node.Number);
            var member = new ServeArguments
            {
                Name = serve.Name,
                DataDir = serve.DataDir,
                InitialCluster = serve.InitialCluster,
                InitialAdvertisePeerUrls = serve.InitialAdvertisePeerUrls,
                InitialClusterToken = serve.InitialClusterToken,
            };
            Kvorum(context, ["snapshot", "restore", file, .. member.ToFlags()]);
            context.Lab.StartNode(node.Number);
        }
        context.Say($"restored each member's data directory from the file (kvorum snapshot restore) and started them");
        var elected = await context.WaitLeaderAmongAsync(nodes, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        context.Expect("the restored members elect a leader", elected is not null, elected is { } e ? $"n{e.Leader} leads" : "no leader in 30 s");
        if (elected is not { } restored)
            return;

        // The latest write of each key before the backup, read back linearizably with its revision.
        var latest = before.GroupBy(w => w.Key).Select(g => g.Last()).ToList();
        var found = 0;
        foreach (var (key, value, revision) in latest)
        {
            var (got, modRevision) = await client.GetAsync(restored.Leader, key, timeout, cancellation: context.Cancellation).ConfigureAwait(false);
            if (got == value && modRevision == revision)
                found++;
        }
        context.Say($"n{restored.Leader} leads the restored cluster; {found} of {latest.Count} keys read back with their last value and revision from before the backup");
        context.Expect("every key written before the backup reads back with its last acknowledged value and revision",
            found == latest.Count, $"{found} of {latest.Count} keys");
        var lost = 0;
        foreach (var key in after)
        {
            if ((await client.GetAsync(restored.Leader, key, timeout, cancellation: context.Cancellation).ConfigureAwait(false)).Value is null)
                lost++;
        }
        context.Say($"{lost} of {after.Count} keys written after the backup are absent");
        context.Expect("the writes acknowledged after the backup are gone with the members that held them", lost == after.Count, $"{lost} of {after.Count} absent");

        var hashes = new List<uint>();
        foreach (var node in nodes)
        {
            // Two members elect a leader and answer the reads above; the third may still be starting (loading, then
            // listening), so each is given time to answer and catch up before it is asked for its hash.
            if (await context.WaitCaughtUpAsync(node, TimeSpan.FromSeconds(30)).ConfigureAwait(false) is null)
                context.Say($"n{node} did not answer and catch up within 30 s");
            try
            {
                hashes.Add((await client.HashKVAsync(node, summary.Revision, timeout, context.Cancellation).ConfigureAwait(false)).Hash);
            }
            catch (RpcException error)
            {
                context.Say($"n{node} could not hash revision {summary.Revision}: {error.Status.Detail}");
            }
        }
        context.Say($"HashKV at revision {summary.Revision}: {string.Join(", ", hashes)} (the file's: {summary.Hash})");
        context.Expect("every restored member holds the same history (HashKV at the backup's revision, and the file's own hash)",
            hashes.Count == nodes.Length && hashes.All(h => h == summary.Hash), $"{string.Join(", ", hashes)}; the file's {summary.Hash}");
        var next = await client.PutAsync(restored.Leader, "dr/new", "after restore", timeout, context.Cancellation).ConfigureAwait(false);
        context.Say($"a new write got revision {next}");
        context.Expect("the new cluster takes writes, its revisions going on from the backup's", next == summary.Revision + 1,
            $"revision {next} after the backup's {summary.Revision}");
    }

    /// <summary>The backup's revision and hash, from <c>kvorum snapshot status -w json</c> (etcdctl's fields).</summary>
    private static BackupFigures Summarize(ScenarioContext context, string file)
    {
        using var status = JsonDocument.Parse(Kvorum(context, ["snapshot", "status", file, "-w", "json"]));
        return new BackupFigures(status.RootElement.GetProperty("revision").GetInt64(), status.RootElement.GetProperty("hash").GetUInt32());
    }

    /// <summary>Runs the kvorum executable the members run, and returns what it printed.</summary>
    private static string Kvorum(ScenarioContext context, IEnumerable<string> arguments)
    {
        var command = context.Options.Lab.ServerCommand;
        return CommandRunner.Run(command[0], [.. command.Skip(1), .. arguments]);
    }

    /// <summary>What the scenario checks the restored members against.</summary>
    private sealed record BackupFigures(long Revision, uint Hash);
}
