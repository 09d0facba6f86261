using Google.Protobuf;
using Grpc.Core;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// A lease kept alive from the command line outlives the member its stream went to: etcdctl (through etcd's client)
/// and <c>kvorum lease keep-alive</c> / <c>kvorum lock</c> open the keep-alive stream again on another endpoint, so
/// a <c>kill -9</c> of the first endpoint's member costs the lease nothing; a <c>kvorum lock</c> waiting for the lock
/// opens its watch again elsewhere too.
/// </summary>
public sealed class KeepAliveResumeProcessTests() : EtcdctlClusterTest(3, "--heartbeat-interval", "50", "--election-timeout", "500")
{
    private const int Ttl = 3;

    private static int KeptAlive(string output) => output.Split('\n').Count(l => l.Contains("keepalived with TTL", StringComparison.Ordinal));

    [SkippableTheory]
    [MemberData(nameof(CliProcess.Tools), MemberType = typeof(CliProcess))]
    public async Task A_lease_kept_alive_survives_the_death_of_the_first_endpoints_member(string tool)
    {
        if (tool == "etcdctl")
            Etcdctl.Require();
        var first = Cluster.Members.Keys.First();
        var survivor = Cluster.Members.Keys.Last();
        var lease = new Lease.LeaseClient(Cluster.Channel(survivor));
        // Retried as a client would: on the loaded 2 cores a new cluster's first grant once timed out (5 s) while its
        // leadership was still settling.
        var id = (await AnyMember.CallAsync([Cluster.Channel(survivor)], (c, d) =>
            new Lease.LeaseClient(c).LeaseGrantAsync(new LeaseGrantRequest { TTL = Ttl }, deadline: d).ResponseAsync, TimeSpan.FromSeconds(30))).ID;
        var endpoints = Cluster.Endpoints([first, .. Cluster.Members.Keys.Where(n => n != first)]);
        await using var keepAlive = CliProcess.Start(tool, endpoints, stdin: false, "lease", "keep-alive", id.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        // The tool may take longer than the TTL to start on a loaded machine: the test keeps the lease alive until
        // the tool has renewed it twice, then leaves it to the tool.
        using (var bridge = new CancellationTokenSource())
        {
            var bridging = BridgeAsync(lease, id, bridge.Token);
            await keepAlive.WaitForOutputAsync(o => KeptAlive(o) >= 2, TimeSpan.FromSeconds(30), "two renewals");
            await bridge.CancelAsync();
            await bridging;
        }

        Cluster.Kill(first);
        var before = KeptAlive(keepAlive.Out);
        await Task.Delay(TimeSpan.FromSeconds(3 * Ttl));

        var left = await TimeToLiveAsync(lease, id);
        Assert.True(left > 0, $"{tool}: the lease expired after its first endpoint's member was killed; stdout: {keepAlive.Out}; stderr: {keepAlive.Err}");
        Assert.True(KeptAlive(keepAlive.Out) > before, $"{tool} renewed nothing after the kill; stderr: {keepAlive.Err}");
        Assert.False(keepAlive.HasExited, $"{tool} exited: {keepAlive.Err}");
        await keepAlive.SignalAsync();
        await keepAlive.ExitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_lock_held_by_kvorum_lock_and_a_wait_for_it_survive_the_death_of_the_first_endpoints_member()
    {
        var first = Cluster.Members.Keys.First();
        var survivor = Cluster.Members.Keys.Last();
        var endpoints = Cluster.Endpoints([first, .. Cluster.Members.Keys.Where(n => n != first)]);
        var ttl = Ttl.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var holder = CliProcess.Start("kvorum", endpoints, stdin: false, "lock", "resume-lock", "--ttl", ttl);
        await holder.WaitForOutputAsync(o => o.Contains("resume-lock/", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "the lock key");
        // A second contender queues behind the holder: its wait is a watch on the holder's key.
        await using var waiter = CliProcess.Start("kvorum", endpoints, stdin: false, "lock", "resume-lock", "--ttl", ttl);
        var queued = DateTime.UtcNow.AddSeconds(20);
        while (await RangeAsync(survivor, "resume-lock/") < 2)
        {
            Assert.True(DateTime.UtcNow < queued, $"the second contender did not queue; stderr: {waiter.Err}");
            await Task.Delay(100);
        }

        Cluster.Kill(first);
        await Task.Delay(TimeSpan.FromSeconds(3 * Ttl));

        var held = await RangeAsync(survivor, "resume-lock/");
        Assert.True(held == 2, $"{held} lock keys left after the first endpoint's member was killed; holder: {holder.Out} {holder.Err}; waiter: {waiter.Err}");
        Assert.False(holder.HasExited, $"kvorum lock exited: {holder.Err}");
        Assert.False(waiter.HasExited, $"the waiting kvorum lock exited: {waiter.Err}");
        Assert.Equal("", waiter.Out);
        await holder.SignalAsync();
        Assert.Equal(0, await holder.ExitAsync(TimeSpan.FromSeconds(10)));
        // Released: the wait, whose watch went to the killed member first, goes on elsewhere and takes the lock.
        await waiter.WaitForOutputAsync(o => o.Contains("resume-lock/", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "the lock handed over");
        await waiter.SignalAsync();
        Assert.Equal(0, await waiter.ExitAsync(TimeSpan.FromSeconds(10)));
    }

    /// <summary>Renews the lease every 500 ms until cancelled.</summary>
    private static async Task BridgeAsync(Lease.LeaseClient lease, long id, CancellationToken stop)
    {
        try
        {
            using var call = lease.LeaseKeepAlive(cancellationToken: stop);
            while (true)
            {
                await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = id }, stop);
                Assert.True(await call.ResponseStream.MoveNext(stop));
                Assert.True(call.ResponseStream.Current.TTL > 0, "the lease expired before the tool renewed it");
                await Task.Delay(500, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>The lease's remaining TTL, asked of any survivor (retrying through an election); -1 when it is gone.</summary>
    private static async Task<long> TimeToLiveAsync(Lease.LeaseClient lease, long id)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                return (await lease.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = id }, deadline: DateTime.UtcNow.AddSeconds(3))).TTL;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    private async Task<long> RangeAsync(string name, string prefix)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                var key = ByteString.CopyFromUtf8(prefix);
                var end = key.ToByteArray();
                end[^1]++;
                return (await Cluster.Kv(name).RangeAsync(new RangeRequest { Key = key, RangeEnd = ByteString.CopyFrom(end), CountOnly = true }, deadline: DateTime.UtcNow.AddSeconds(3))).Count;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }
}
