using System.Text.Json;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>A 3-process Kvorum cluster on loopback, driven by etcdctl 3.4 exactly as a user would.</summary>
public sealed class EtcdctlProcessTests() : EtcdctlClusterTest(3, "--heartbeat-interval", "50", "--election-timeout", "500")
{
    [SkippableFact]
    public async Task Etcdctl_runs_put_get_del_txn_compaction_status_members_and_move_leader()
    {
        Etcdctl.Require();
        Assert.Equal("OK", (await Ctl("put", "fruit/apple", "red")).Out.Trim());
        Assert.Equal("OK", (await Ctl("put", "fruit/banana", "yellow")).Out.Trim());
        var get = await Ctl("get", "fruit/", "--prefix");
        Assert.Equal(0, get.Code);
        Assert.Equal(["fruit/apple", "red", "fruit/banana", "yellow"], get.Out.Trim().Split('\n'));

        var del = await Ctl("del", "fruit/apple");
        Assert.Equal("1", del.Out.Trim());

        var txn = await Etcdctl.RunAsync(Cluster.Endpoints(), "value(\"fruit/banana\") = \"yellow\"\n\nput fruit/banana ripe\n\nput fruit/banana nope\n\n", "txn");
        Assert.Equal(0, txn.Code);
        Assert.StartsWith("SUCCESS", txn.Out.Trim(), StringComparison.Ordinal);
        Assert.Equal(["fruit/banana", "ripe"], (await Ctl("get", "fruit/banana")).Out.Trim().Split('\n'));

        var compact = await Ctl("compaction", "3");
        Assert.Equal(0, compact.Code);
        var old = await Ctl("get", "fruit/banana", "--rev=2");
        Assert.NotEqual(0, old.Code);
        Assert.Contains("required revision has been compacted", old.Err, StringComparison.Ordinal);

        // Every member hashes the same history at the last write's revision (followers may need a moment to apply it).
        var revision = JsonDocument.Parse((await Ctl("get", "fruit/banana", "-w", "json")).Out).RootElement.GetProperty("header").GetProperty("revision").GetInt64();
        var hashkv = await Ctl("endpoint", "hashkv", $"--rev={revision}");
        for (var attempt = 0; attempt < 50 && hashkv.Code != 0; attempt++)
        {
            await Task.Delay(100);
            hashkv = await Ctl("endpoint", "hashkv", $"--rev={revision}");
        }
        Assert.True(hashkv.Code == 0, hashkv.Err);
        var hashes = hashkv.Out.Trim().Split('\n').Select(l => l.Split(", ")[1]).ToList();
        Assert.Equal(3, hashes.Count);
        Assert.Single(hashes.Distinct());
        var hashBefore = await Ctl("endpoint", "hashkv", "--rev=2");
        Assert.NotEqual(0, hashBefore.Code);
        Assert.Contains("required revision has been compacted", hashBefore.Err, StringComparison.Ordinal);

        var status = await Ctl("endpoint", "status", "-w", "table");
        Assert.Equal(0, status.Code);
        // One row per endpoint; exactly one says IS LEADER = true (the fifth column).
        var rows = status.Out.Split('\n').Where(l => l.Contains("127.0.0.1", StringComparison.Ordinal)).Select(l => l.Split('|').Select(c => c.Trim()).ToArray()).ToList();
        Assert.Equal(3, rows.Count);
        Assert.Equal(1, rows.Count(r => r[5] == "true"));
        // DB SIZE (the fourth column) is the member's data directory: never empty, since the WAL is preallocated.
        Assert.All(rows, r => Assert.Matches(@"^[1-9][0-9.]* (kB|MB|GB)$", r[4]));

        // The same through the members' client URLs (--cluster), which etcdctl puts in :authority as they are.
        var urls = string.Join(",", Cluster.Endpoints().Split(',').Select(e => "http://" + e));
        var byUrl = await Etcdctl.RunAsync(urls, null, "endpoint", "status", "--cluster", "-w", "table");
        Assert.True(byUrl.Code == 0, byUrl.Err);
        // Cells, not padding: etcdctl aligns cells right, so a shorter URL than the widest starts further in.
        Assert.Equal(3, byUrl.Out.Split('\n').Count(l => l.Split('|').Select(c => c.Trim()).Any(c => c.StartsWith("http://127.0.0.1:", StringComparison.Ordinal))));
        var hashByUrl = await Etcdctl.RunAsync(urls, null, "endpoint", "hashkv", "--cluster");
        Assert.True(hashByUrl.Code == 0, hashByUrl.Err);

        var members = await Ctl("member", "list");
        Assert.Equal(3, members.Out.Trim().Split('\n').Length);

        // Move leadership to a follower, by id from member list.
        var leader = await Cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(5));
        var target = Cluster.Members.Keys.First(n => n != leader);
        var targetId = (await Cluster.RequireStatusAsync(target)).Header.MemberId.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
        var move = await Etcdctl.RunAsync("http://" + Cluster.Endpoints([leader]), null, "move-leader", targetId);
        Assert.True(move.Code == 0, move.Err);
        Assert.Equal(target, await Cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(10)));
    }

    [SkippableFact]
    public async Task Etcdctl_bad_input_gets_etcd_errors_and_the_cluster_keeps_serving()
    {
        Etcdctl.Require();
        var unknown = await Ctl("member", "remove", "1234");
        Assert.NotEqual(0, unknown.Code);
        Assert.Contains("member not found", unknown.Err, StringComparison.Ordinal);
        var future = await Ctl("get", "x", "--rev=100000");
        Assert.Contains("required revision is a future revision", future.Err, StringComparison.Ordinal);
        Assert.Equal("OK", (await Ctl("put", "still", "serving")).Out.Trim());
    }
}
