using System.Text.Json;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// Backup and restore as an etcd user does it: <c>snapshot save</c> from a running 3-member cluster (with
/// <c>kvorum</c> and with etcdctl 3.4, whose client checks the stream's trailing SHA-256), <c>snapshot status</c>, then
/// <c>snapshot restore</c> into the data directories of a new 3-member cluster, which must serve the same keys at the
/// same revisions, with the same compaction, and go on from there.
/// </summary>
public sealed class SnapshotProcessTests : IAsyncLifetime
{
    private readonly ProcessCluster _source = new(3);
    private readonly ProcessCluster _restored = new(3);
    private readonly string _files = Path.Combine(Path.GetTempPath(), "kvorum-snap-" + Guid.NewGuid().ToString("N"));

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_files);
        await _source.StartAllWithLeaderAsync(TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync()
    {
        await _source.DisposeAsync();
        await _restored.DisposeAsync();
        Directory.Delete(_files, recursive: true);
    }

    [SkippableFact]
    public async Task A_saved_snapshot_restores_into_a_new_cluster_with_the_same_history()
    {
        Etcdctl.Require();
        var source = _source.Endpoints();
        for (var i = 0; i < 30; i++)
            await Succeeds(_source, "put", $"key/{i % 12:D2}", $"value {i}");
        await Succeeds(_source, "del", "key/03");
        await Succeeds(_source, "compaction", "10");
        var before = await Kvorum(source, "get", "key/", "--prefix", "-w", "json");
        var revision = Revision(before.Out);
        Assert.Equal(32, revision); // 1 + 30 puts + 1 delete

        // Saved from a follower's endpoint, by kvorum and by etcdctl.
        var leader = await _source.WaitForLeaderAsync(TimeSpan.FromSeconds(10));
        var follower = _source.Members.Keys.First(n => n != leader);
        var one = _source.Endpoints([follower]);
        // A follower applies the compaction a moment after the leader answered it.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (Revision((await Kvorum(one, "get", "key/", "--prefix", "--consistency", "s", "-w", "json")).Out) != revision
            || !(await Kvorum(one, "get", "key/00", "--rev", "9", "--consistency", "s")).Err.Contains("compacted", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, "the follower did not apply the writes and the compaction");
            await Task.Delay(50);
        }
        var ours = Path.Combine(_files, "ours.snap");
        var saved = await Kvorum(one, "snapshot", "save", ours);
        Assert.True(saved.Code == 0, saved.Err);
        Assert.Equal($"Snapshot saved at {ours}", saved.Out.Trim());
        Assert.False(File.Exists(ours + ".part"));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(ours)); // it holds every value
        var theirs = Path.Combine(_files, "etcdctl.snap");
        var etcdctl = await Etcdctl.RunAsync(one, null, "snapshot", "save", theirs);
        Assert.True(etcdctl.Code == 0, etcdctl.Err);
        Assert.Equal(File.ReadAllBytes(ours), File.ReadAllBytes(theirs)); // same member, same state: the same bytes

        // More than one endpoint is refused, as etcdctl refuses it.
        var many = await Kvorum(source, "snapshot", "save", Path.Combine(_files, "many.snap"));
        Assert.Equal(2, many.Code);
        Assert.Contains("snapshot must be requested to one selected node", many.Err, StringComparison.Ordinal);

        // status: the hash is what hashkv answers at the saved revision.
        var status = await Kvorum(one, "snapshot", "status", ours, "-w", "json");
        Assert.True(status.Code == 0, status.Err);
        using var summary = JsonDocument.Parse(status.Out);
        Assert.Equal(revision, summary.RootElement.GetProperty("revision").GetInt64());
        Assert.Equal(12, summary.RootElement.GetProperty("totalKey").GetInt32());
        Assert.Equal(new FileInfo(ours).Length, summary.RootElement.GetProperty("totalSize").GetInt64());
        var hashkv = await Kvorum(one, "hashkv", "-w", "json");
        using (var hashes = JsonDocument.Parse(hashkv.Out))
            Assert.Equal(summary.RootElement.GetProperty("hash").GetInt64(), hashes.RootElement[0].GetProperty("HashKV").GetProperty("hash").GetInt64());

        // Writes after the save are not in it.
        await Succeeds(_source, "put", "after", "save");

        foreach (var name in _restored.Members.Keys)
        {
            var restore = await Kvorum(null, "snapshot", "restore", theirs, "--name", name, "--data-dir", _restored.DataDir(name),
                "--initial-cluster", _restored.InitialClusterFlag, "--initial-cluster-token", _restored.Token,
                "--initial-advertise-peer-urls", _restored.PeerUrl(name));
            Assert.True(restore.Code == 0, restore.Err);
            Assert.Contains($"revision {revision}, 12 keys", restore.Out, StringComparison.Ordinal);
        }
        _restored.StartAll();
        await _restored.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        var restored = _restored.Endpoints();

        var after = await Kvorum(restored, "get", "key/", "--prefix", "-w", "json");
        Assert.True(after.Code == 0, after.Err);
        Assert.Equal(Kvs(before.Out), Kvs(after.Out));
        Assert.Equal(revision, Revision(after.Out));
        Assert.Equal("", (await Kvorum(restored, "get", "after")).Out);
        var compacted = await Kvorum(restored, "get", "key/00", "--rev", "9");
        Assert.Contains("required revision has been compacted", compacted.Err, StringComparison.Ordinal);
        Assert.Equal("value 12", (await Kvorum(restored, "get", "key/00", "--rev", "14", "--print-value-only")).Out.Trim());

        // A new cluster: its own members, and the history goes on from the saved revision.
        var members = await Kvorum(restored, "member", "list");
        foreach (var name in _restored.Members.Keys)
            Assert.Contains(_restored.PeerUrl(name), members.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(_source.PeerUrl("m1"), members.Out, StringComparison.Ordinal);
        var put = await Kvorum(restored, "put", "new", "write", "-w", "json");
        Assert.Equal(revision + 1, Revision(put.Out));
        var agreed = await Kvorum(restored, "hashkv");
        Assert.True(agreed.Code == 0, agreed.Err);

        // The new cluster grows as any other: a fourth member joins and is sent the restored state.
        var running = _restored.Members.Keys.ToList();
        _restored.Define("m4");
        // The strict reconfiguration check refuses an add until every voter has been connected for 5 s, as etcd's
        // does; an operator asks again.
        var add = await Kvorum(restored, "member", "add", "m4", "--peer-urls", _restored.PeerUrl("m4"));
        for (var retry = DateTime.UtcNow.AddSeconds(20); add.Code != 0 && add.Err.Contains("unhealthy cluster", StringComparison.Ordinal) && DateTime.UtcNow < retry;)
        {
            await Task.Delay(500);
            add = await Kvorum(restored, "member", "add", "m4", "--peer-urls", _restored.PeerUrl("m4"));
        }
        Assert.True(add.Code == 0, add.Err);
        _restored.Start("m4", joinExisting: true, initialMembers: running.Append("m4"));
        var joined = _restored.Endpoints(["m4"]);
        deadline = DateTime.UtcNow.AddSeconds(30);
        string count;
        while ((count = (await Kvorum(joined, "get", "key/", "--prefix", "--count-only", "--consistency", "s")).Out.Trim()) != "11")
        {
            Assert.True(DateTime.UtcNow < deadline, $"m4 holds {count} keys, not the restored 11");
            await Task.Delay(100);
        }

        // A restore never writes over a data directory.
        var again = await Kvorum(null, "snapshot", "restore", ours, "--name", "m1", "--data-dir", _restored.DataDir("m1"),
            "--initial-cluster", _restored.InitialClusterFlag, "--initial-cluster-token", _restored.Token,
            "--initial-advertise-peer-urls", _restored.PeerUrl("m1"));
        Assert.Equal(1, again.Code);
        Assert.Contains("exists; a restore makes a new member's directory", again.Err, StringComparison.Ordinal);
    }

    private static Task<(int Code, string Out, string Err)> Kvorum(string? endpoints, params string[] args) =>
        endpoints is null ? CliRun.Run(args) : CliRun.Run([.. args, "--endpoints", endpoints]);

    /// <summary>Runs a command against every member of <paramref name="cluster"/> that must succeed; a failure says what it and the members printed.</summary>
    private static async Task Succeeds(ProcessCluster cluster, params string[] args)
    {
        var (code, _, err) = await Kvorum(cluster.Endpoints(), args);
        if (code == 0)
            return;
        var logs = new System.Text.StringBuilder();
        cluster.WriteLogs(l => logs.AppendLine(l));
        Assert.Fail($"kvorum {string.Join(' ', args)} exited {code}: {err}\n{logs}");
    }

    private static long Revision(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("header").GetProperty("revision").GetInt64();
    }

    private static string Kvs(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("kvs").GetRawText();
    }
}
