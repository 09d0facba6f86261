using System.Collections.Concurrent;
using System.Diagnostics;
using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Xunit.Abstractions;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// Real processes, real faults: SIGKILL the leader under a steady write load; restart a follower after
/// many writes so that it catches up by snapshot; grow and shrink the membership.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class FailoverProcessTests(ITestOutputHelper output)
{
    /// <summary>
    /// Leader kills in the failover test: 10 in the suite, each a kill, an election and a restart of the killed member;
    /// <c>KVORUM_FAILOVER_TRIALS=20</c> or more for the figures of docs/benchmarks.md.
    /// </summary>
    private static int Trials() =>
        int.TryParse(Environment.GetEnvironmentVariable("KVORUM_FAILOVER_TRIALS"), out var n) && n > 0 ? n : 10;

    /// <summary>Writes keys one after another through any member that answers; records every acknowledged one.</summary>
    private static async Task WriteLoadAsync(ProcessCluster cluster, ConcurrentDictionary<string, string> acked, string prefix, CancellationToken stop)
    {
        var i = 0;
        while (!stop.IsCancellationRequested)
        {
            var key = $"{prefix}/{i:D6}";
            foreach (var name in cluster.Members.Keys.Where(cluster.IsRunning).ToList())
            {
                try
                {
                    await cluster.Kv(name).PutAsync(
                        new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(key) },
                        deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: stop);
                    acked[key] = key;
                    i++;
                    break;
                }
                catch (Grpc.Core.RpcException)
                {
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    [Fact]
    public async Task Killing_the_leader_under_write_load_elects_a_new_leader_within_3s_and_loses_no_acknowledged_write()
    {
        await using var cluster = new ProcessCluster(3);
        cluster.StartAll();
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        var acked = new ConcurrentDictionary<string, string>();
        using var stop = new CancellationTokenSource();
        var load = WriteLoadAsync(cluster, acked, "load", stop.Token);
        var failovers = new List<double>();
        var terms = new List<string>();
        for (var trial = 0; trial < Trials(); trial++)
        {
            await Task.Delay(500);
            var before = (await cluster.RequireStatusAsync(leader)).RaftTerm;
            var sw = Stopwatch.StartNew();
            var killedAt = DateTime.Now;
            cluster.Kill(leader);
            var elected = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(10), notThis: leader);
            failovers.Add(sw.Elapsed.TotalMilliseconds);
            // The new leader's term says how many elections it took (a pre-vote that fails does not raise it).
            var after = (await cluster.RequireStatusAsync(elected)).RaftTerm;
            terms.Add($"{sw.Elapsed.TotalMilliseconds:F0} ms: term {before} -> {after}");
            if (sw.Elapsed > TimeSpan.FromSeconds(2))
            {
                // A slow trial: what each survivor's Raft did after the kill says which step waited.
                foreach (var n in cluster.Members.Keys.Where(n => n != leader))
                {
                    var since = cluster.LogText(n).Split('\n').Where(l => l.Length > 12 && string.CompareOrdinal(l[..12], $"{killedAt:HH:mm:ss.fff}") >= 0).Take(20);
                    output.WriteLine($"  trial {trial} ({sw.Elapsed.TotalMilliseconds:F0} ms), {n}, killed {leader} at {killedAt:HH:mm:ss.fff}: {string.Join(" | ", since)}");
                }
            }
            cluster.Start(leader);
            leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(10));
        }
        output.WriteLine("trials: " + string.Join("; ", terms));
        await stop.CancelAsync();
        await load;
        failovers.Sort();
        output.WriteLine($"failover ms over {failovers.Count} trials: min {failovers[0]:F0} p50 {failovers[failovers.Count / 2]:F0} max {failovers[^1]:F0}; {acked.Count} writes acknowledged");
        output.WriteLine($"all, sorted: {string.Join(' ', failovers.Select(ms => ms.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))}");
        // Default election timeout 1 s: a new leader within 3 s every time.
        Assert.All(failovers, ms => Assert.True(ms < 3000, $"failover took {ms:F0} ms"));
        Assert.True(acked.Count > 20, $"only {acked.Count} writes acknowledged");

        // Every acknowledged write is still there, read linearizably through the new leader.
        var range = await cluster.ReadAfterFailoverAsync(leader, new RangeRequest
        {
            Key = ByteString.CopyFromUtf8("load/"),
            RangeEnd = ByteString.CopyFromUtf8("load0"),
        }, TimeSpan.FromSeconds(15), output.WriteLine);
        var present = range.Kvs.Select(kv => kv.Key.ToStringUtf8()).ToHashSet();
        var missing = acked.Keys.Where(k => !present.Contains(k)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} acknowledged writes lost, e.g. {string.Join(',', missing.Take(5))}");
    }

    [Fact]
    public async Task A_read_on_a_follower_whose_leader_freezes_fails_with_leader_changed_once_another_is_elected()
    {
        // Request timeout: 5 s. Election timeout: 500 ms, so a new leader comes well before that.
        await using var cluster = new ProcessCluster(3, "--heartbeat-interval", "50", "--election-timeout", "500");
        cluster.StartAll();
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        var follower = cluster.Members.Keys.First(n => n != leader);
        await cluster.Kv(leader).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("v") });
        // Warm the follower's read path, so the read below is the only one in flight.
        await cluster.Kv(follower).RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("k") });

        cluster.Pause(leader, paused: true);
        try
        {
            // The follower forwards the read index request to the frozen leader, which never answers.
            var clock = Stopwatch.StartNew();
            var error = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
                await cluster.Kv(follower).RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("k") }, deadline: DateTime.UtcNow.AddSeconds(30)));
            output.WriteLine($"{leader} frozen; the read on {follower} failed after {clock.ElapsedMilliseconds} ms: {error.Status.Detail}");

            Assert.Equal(Grpc.Core.StatusCode.Unavailable, error.StatusCode);
            Assert.Equal(EtcdErrors.LeaderChanged.Message, error.Status.Detail);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"failed only after {clock.ElapsedMilliseconds} ms");
        }
        catch
        {
            cluster.WriteLogs(output.WriteLine);
            throw;
        }
        finally
        {
            cluster.Pause(leader, paused: false);
        }
    }

    [Fact]
    public async Task A_stopped_leader_hands_over_leadership_faster_than_an_election_timeout()
    {
        // A 4 s election timeout: without a handover the others would need at least that long to notice.
        await using var cluster = new ProcessCluster(3, "--election-timeout", "4000", "--heartbeat-interval", "100");
        cluster.StartAll();
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(60));
        await cluster.Kv(leader).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("before"), Value = ByteString.CopyFromUtf8("stop") });

        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.Equal(0, await cluster.StopAsync(leader, TimeSpan.FromSeconds(30)));
        var stopped = clock.Elapsed;
        var successor = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30), notThis: leader);
        var elected = clock.Elapsed;
        output.WriteLine($"{leader} stopped after {stopped.TotalMilliseconds:0} ms; {successor} leads {elected.TotalMilliseconds:0} ms after SIGTERM");

        Assert.Contains("transferred leadership", cluster.LogText(leader), StringComparison.Ordinal);
        Assert.True(elected < TimeSpan.FromSeconds(4), $"a new leader {elected.TotalMilliseconds:0} ms after SIGTERM: no faster than an election");
        var read = await cluster.ReadAfterFailoverAsync(successor, new RangeRequest { Key = ByteString.CopyFromUtf8("before") }, TimeSpan.FromSeconds(30), output.WriteLine);
        Assert.Equal("stop", read.Kvs.Single().Value.ToStringUtf8());
    }

    [Fact]
    public async Task A_restarted_follower_catches_up_through_a_snapshot_and_serves_the_same_data()
    {
        await using var cluster = new ProcessCluster(3, "--snapshot-count", "1000", "--heartbeat-interval", "50", "--election-timeout", "500");
        cluster.StartAll();
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        var follower = cluster.Members.Keys.First(n => n != leader);
        cluster.Kill(follower);
        // Enough for the leader to compact past the follower: its first snapshot (after 1000 entries) is made current,
        // compacting the log, once 5000 more entries are applied (the default catch-up entries); 15,000 leaves a margin.
        var writes = int.TryParse(Environment.GetEnvironmentVariable("KVORUM_SNAPSHOT_WRITES"), out var w) ? w : 15_000;
        var kv = cluster.Kv(leader);
        var next = 0;
        var writers = Enumerable.Range(0, 64).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) <= writes)
            {
                await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8($"k/{i % 5000:D5}"), Value = ByteString.CopyFromUtf8($"v{i}") });
            }
        });
        await Task.WhenAll(writers);
        var leaderStatus = await cluster.RequireStatusAsync(leader);
        cluster.Start(follower);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        StatusResponse? fs = null;
        while (DateTime.UtcNow < deadline)
        {
            fs = await cluster.StatusAsync(follower);
            if (fs is not null && fs.RaftAppliedIndex >= leaderStatus.RaftAppliedIndex)
                break;
            await Task.Delay(100);
        }
        Assert.NotNull(fs);
        Assert.True(fs.RaftAppliedIndex >= leaderStatus.RaftAppliedIndex, $"follower applied {fs.RaftAppliedIndex}, leader {leaderStatus.RaftAppliedIndex}");
        // It got there by InstallSnapshot: the leader had compacted the entries it missed.
        Assert.Contains("installed snapshot", cluster.LogText(follower), StringComparison.Ordinal);
        // The same data, read locally (serializable) on the restarted follower.
        var all = new RangeRequest { Key = ByteString.CopyFromUtf8("k/"), RangeEnd = ByteString.CopyFromUtf8("k0"), Serializable = true };
        var a = await cluster.Kv(follower).RangeAsync(all);
        all.Serializable = false;
        var b = await cluster.Kv(leader).RangeAsync(all);
        Assert.Equal(5000, b.Kvs.Count);
        Assert.Equal(b.Kvs.Select(x => (x.Key, x.Value, x.ModRevision)), a.Kvs.Select(x => (x.Key, x.Value, x.ModRevision)));
        // And the same history: every version of every key, on every member (Maintenance.HashKV at one revision).
        var hashes = await Task.WhenAll(cluster.Members.Keys.Select(m => new Maintenance.MaintenanceClient(cluster.Channel(m))
            .HashKVAsync(new HashKVRequest { Revision = b.Header.Revision }).ResponseAsync));
        Assert.All(hashes, h => Assert.Equal(b.Header.Revision, h.HashRevision));
        Assert.Single(hashes.Select(h => h.Hash).Distinct());
        output.WriteLine($"{writes} writes; follower caught up to applied index {fs.RaftAppliedIndex}; HashKV {hashes[0].Hash} at revision {b.Header.Revision} on all members");
    }
}
