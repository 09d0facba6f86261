using System.Text.RegularExpressions;
using Kvorum.Tests.Shared;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// Leases on real <c>kvorum serve</c> processes, driven by etcdctl 3.4 as a user would, with the answers compared to
/// etcd's own; and leases carried through <c>snapshot save</c> and <c>snapshot restore</c>.
/// </summary>
public sealed partial class LeaseProcessTests : IAsyncLifetime
{
    private readonly ProcessCluster _cluster = new(3, "--heartbeat-interval", "50", "--election-timeout", "500");
    private readonly List<IAsyncDisposable> _others = [];

    public async Task InitializeAsync()
    {
        await _cluster.StartAllWithLeaderAsync(TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync()
    {
        foreach (var other in _others)
            await other.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    [GeneratedRegex("[0-9a-f]{16}")]
    private static partial Regex LeaseHex();

    [GeneratedRegex(@"remaining\((\d+)s\)")]
    private static partial Regex Remaining();

    /// <summary>
    /// Runs the same etcdctl lease session against <paramref name="endpoints"/>: each command's exit code and output,
    /// with the granted lease's id replaced by <c>ID</c>, the attached keys sorted (etcd lists them in Go map order),
    /// and the remaining TTL checked to be 99 or 100 and then written as 99.
    /// </summary>
    private static async Task<List<string>> SessionAsync(string endpoints)
    {
        var lines = new List<string>();
        async Task<string> Run(params string[] args)
        {
            var (code, output, error) = await Etcdctl.RunAsync(endpoints, null, args);
            // etcdctl's client logs its retries on stderr as JSON (times, endpoints): only its own "Error:" lines compare.
            var errors = string.Join(' ', error.Split('\n').Where(l => l.StartsWith("Error", StringComparison.Ordinal)));
            lines.Add($"{string.Join(' ', args)} -> {code}: {output.Trim()} {errors}");
            return output;
        }
        var grant = await Run("lease", "grant", "100");
        var id = LeaseHex().Match(grant).Value;
        Assert.False(string.IsNullOrEmpty(id), grant);
        await Run("lease", "grant", "9000000001");
        await Run("put", "--lease=" + id, "lk1", "v");
        await Run("put", "--lease=" + id, "lk0", "v");
        await Run("put", "--lease=1234abcd", "lk2", "v");
        await Run("lease", "timetolive", id);
        await Run("lease", "timetolive", "--keys", id);
        await Run("lease", "keep-alive", "--once", id);
        await Run("lease", "keep-alive", "--once", "1234abcd");
        await Run("lease", "list");
        await Run("lease", "revoke", id);
        await Run("lease", "revoke", id);
        await Run("lease", "timetolive", "1234abcd");
        await Run("get", "lk", "--prefix");
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i].Replace(id, "ID", StringComparison.Ordinal);
            line = line.Replace("attached keys([lk1 lk0])", "attached keys([lk0 lk1])", StringComparison.Ordinal);
            var remaining = Remaining().Match(line);
            if (remaining.Success)
            {
                Assert.InRange(int.Parse(remaining.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 98, 100);
                line = Remaining().Replace(line, "remaining(99s)");
            }
            lines[i] = line;
        }
        return lines;
    }

    [SkippableFact]
    public async Task Etcdctl_lease_grant_put_timetolive_keep_alive_list_and_revoke_answer_as_etcd_does()
    {
        Etcdctl.Require();
        EtcdServerProcess.Require();
        var etcd = new EtcdServerProcess(FreePorts.Next);
        _others.Add(etcd);

        var ours = await SessionAsync(_cluster.Endpoints());
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await Etcdctl.RunAsync(etcd.ClientUrl, null, "endpoint", "health")).Code != 0)
        {
            Assert.True(DateTime.UtcNow < deadline, etcd.Output);
            await Task.Delay(100);
        }
        var theirs = await SessionAsync(etcd.ClientUrl);
        Assert.Equal(theirs, ours);
        Assert.Contains("lease ID granted with TTL(100s)", ours[0], StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task An_abandoned_lease_expires_and_its_keys_go_on_every_member()
    {
        Etcdctl.Require();
        var grant = await Etcdctl.RunAsync(_cluster.Endpoints(), null, "lease", "grant", "2");
        var id = LeaseHex().Match(grant.Out).Value;
        Assert.Equal(0, (await Etcdctl.RunAsync(_cluster.Endpoints(), null, "put", "--lease=" + id, "short", "v")).Code);
        await Task.Delay(TimeSpan.FromSeconds(4));
        foreach (var name in _cluster.Members.Keys)
        {
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while ((await Etcdctl.RunAsync(_cluster.Endpoints([name]), null, "get", "short", "--consistency=s")).Out.Trim().Length > 0)
            {
                Assert.True(DateTime.UtcNow < deadline, $"{name} still holds the key of an expired lease");
                await Task.Delay(100);
            }
        }
        var ttl = await Etcdctl.RunAsync(_cluster.Endpoints(), null, "lease", "timetolive", id);
        Assert.Equal($"lease {id} already expired", ttl.Out.Trim());
    }

    [SkippableFact]
    public async Task A_lease_and_its_keys_survive_snapshot_save_and_restore()
    {
        Etcdctl.Require();
        var grant = await Etcdctl.RunAsync(_cluster.Endpoints(), null, "lease", "grant", "300");
        var id = LeaseHex().Match(grant.Out).Value;
        Assert.Equal(0, (await Etcdctl.RunAsync(_cluster.Endpoints(), null, "put", "--lease=" + id, "held", "v")).Code);

        var files = Path.Combine(Path.GetTempPath(), "kvorum-lease-snap-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(files);
        try
        {
            var file = Path.Combine(files, "leases.snap");
            var leader = await _cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(10));
            var saved = await CliRun.Run("snapshot", "save", file, "--endpoints", _cluster.Endpoints([leader]));
            Assert.True(saved.Code == 0, saved.Err);

            var restored = new ProcessCluster(1, "--heartbeat-interval", "50", "--election-timeout", "500");
            _others.Add(restored);
            var restore = await CliRun.Run("snapshot", "restore", file, "--name", "m1", "--data-dir", restored.DataDir("m1"),
                "--initial-cluster", restored.InitialClusterFlag, "--initial-cluster-token", restored.Token,
                "--initial-advertise-peer-urls", restored.PeerUrl("m1"));
            Assert.True(restore.Code == 0, restore.Err);
            restored.StartAll();
            await restored.WaitForLeaderAsync(TimeSpan.FromSeconds(30));

            var list = await Etcdctl.RunAsync(restored.Endpoints(), null, "lease", "list");
            Assert.Equal($"found 1 leases\n{id}", list.Out.Trim());
            var ttl = await Etcdctl.RunAsync(restored.Endpoints(), null, "lease", "timetolive", "--keys", id);
            Assert.StartsWith($"lease {id} granted with TTL(300s), remaining(", ttl.Out.Trim(), StringComparison.Ordinal);
            Assert.EndsWith("attached keys([held])", ttl.Out.Trim(), StringComparison.Ordinal);
            var revoke = await Etcdctl.RunAsync(restored.Endpoints(), null, "lease", "revoke", id);
            Assert.Equal($"lease {id} revoked", revoke.Out.Trim());
            Assert.Equal("", (await Etcdctl.RunAsync(restored.Endpoints(), null, "get", "held")).Out.Trim());
        }
        finally
        {
            Directory.Delete(files, recursive: true);
        }
    }
}
