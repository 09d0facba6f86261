using System.Diagnostics;
using Kvorum.Tests.Shared;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// <c>etcdctl watch</c> against a 3-process Kvorum cluster, as a user runs it: live events, a watch from an old
/// revision, <c>--prefix</c> and <c>--prev-kv</c>, and a watch of a compacted revision, whose output and exit code
/// must be what etcd's give for the same commands.
/// </summary>
public sealed class WatchProcessTests() : EtcdctlClusterTest(3, "--heartbeat-interval", "50", "--election-timeout", "500")
{
    /// <summary>Runs <c>etcdctl watch</c> until it has printed <paramref name="lines"/> lines (or 30 s pass), then stops it.</summary>
    private static async Task<List<string>> WatchLinesAsync(string endpoints, int lines, params string[] args)
    {
        var psi = new ProcessStartInfo(Etcdctl.Path!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.Environment["ETCDCTL_API"] = "3";
        psi.ArgumentList.Add("--endpoints=" + endpoints);
        psi.ArgumentList.Add("watch");
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = new List<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            while (output.Count < lines && await p.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
                output.Add(line);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            p.Kill();
            await p.WaitForExitAsync();
        }
        return output;
    }

    /// <summary>The same writes and watches on any server from a fresh store: what etcdctl printed for each watch.</summary>
    private static async Task<List<string>> ScenarioAsync(string endpoints)
    {
        async Task Run(params string[] args)
        {
            var r = await Etcdctl.RunAsync(endpoints, null, args);
            Assert.True(r.Code == 0, $"etcdctl {string.Join(' ', args)}: {r.Err}");
        }

        await Run("put", "a", "1");
        await Run("put", "a", "2");
        await Run("del", "a");
        await Run("put", "p/x", "3");
        await Run("put", "p/y", "4");
        await Run("put", "a", "5");
        var transcript = new List<string> { "-- a --rev 1 --prev-kv" };
        transcript.AddRange(await WatchLinesAsync(endpoints, 14, "a", "--rev", "1", "--prev-kv"));
        transcript.Add("-- p/ --prefix --rev 3");
        transcript.AddRange(await WatchLinesAsync(endpoints, 6, "p/", "--prefix", "--rev", "3"));

        await Run("compaction", "5");
        transcript.Add("-- a --rev 3 after compaction at 5");
        var compacted = await Etcdctl.RunAsync(endpoints, null, "watch", "a", "--rev", "3").WaitAsync(TimeSpan.FromSeconds(30));
        transcript.Add($"exit {compacted.Code}");
        transcript.Add("out: " + compacted.Out.Trim());
        transcript.Add("err: " + compacted.Err.Trim());
        transcript.Add("-- a --rev 5 after compaction at 5, then a put of a");
        // The history from revision 5 holds one event of a; a put after it is the second and last the watch waits
        // for, so that it ends once both are printed (and an extra event in between would show in their place).
        var fromFive = WatchLinesAsync(endpoints, 6, "a", "--rev", "5");
        await Run("put", "a", "6");
        transcript.AddRange(await fromFive);
        return transcript;
    }

    [SkippableFact]
    public async Task Etcdctl_watch_prints_what_it_prints_against_etcd()
    {
        Etcdctl.Require();
        EtcdServerProcess.Require();
        // The two servers share nothing: the scenario runs on both at once, on etcd once it answers.
        await using var etcd = new EtcdServerProcess(FreePorts.Next);
        async Task<List<string>> ReferenceAsync()
        {
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while ((await Etcdctl.RunAsync(etcd.ClientUrl, null, "endpoint", "health")).Code != 0)
            {
                Assert.True(DateTime.UtcNow < deadline, etcd.Output);
                await Task.Delay(100);
            }
            return await ScenarioAsync(etcd.ClientUrl);
        }
        var scenarios = await Task.WhenAll(ScenarioAsync(Cluster.Endpoints()), ReferenceAsync());
        var (kvorum, reference) = (scenarios[0], scenarios[1]);
        Assert.Equal(string.Join('\n', reference), string.Join('\n', kvorum));
        // And what that is: events with their previous values, and a compacted watch that ends with exit code 5.
        Assert.Equal(["PUT", "a", "1", "PUT", "a", "1", "a", "2", "DELETE", "a", "2", "a", "", "PUT"], kvorum.Skip(1).Take(14));
        Assert.Contains("exit 5", kvorum);
        Assert.Equal(["PUT", "a", "5", "PUT", "a", "6"], kvorum.TakeLast(6));
    }

    [SkippableFact]
    public async Task Etcdctl_watch_on_a_follower_sees_live_puts_made_through_another_member()
    {
        Etcdctl.Require();
        var leader = await Cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        var follower = Cluster.Members.Keys.First(n => n != leader);
        var watching = WatchLinesAsync(Cluster.Endpoints([follower]), 9, "live/", "--prefix");
        // The watch is registered once etcdctl connects; keep writing until it has seen three events in a row.
        for (var i = 0; i < 200 && !watching.IsCompleted; i++)
        {
            var put = await Etcdctl.RunAsync(Cluster.Endpoints([leader]), null, "put", $"live/{i}", $"v{i}");
            Assert.Equal(0, put.Code);
        }
        var lines = await watching;
        // Each event is three lines: PUT, the key, the value.
        Assert.Equal(9, lines.Count);
        Assert.Equal(["PUT", "PUT", "PUT"], [lines[0], lines[3], lines[6]]);
        var numbers = new[] { lines[1], lines[4], lines[7] }.Select(k => int.Parse(k["live/".Length..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal([numbers[0], numbers[0] + 1, numbers[0] + 2], numbers);
    }
}
