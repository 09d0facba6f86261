using System.Diagnostics;
using Grpc.Core;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;

namespace Kvorum.Server.Tests.Lease;

/// <summary>A member that stops ends the keep-alive streams it serves, as it ends its watch streams.</summary>
public sealed partial class LeaseClusterTests
{
    [Fact]
    public async Task A_stopping_member_ends_its_keep_alive_streams_with_server_stopped_and_does_not_wait_for_them()
    {
        var leases = Leases("m2");
        var granted = await leases.LeaseGrantAsync(new LeaseGrantRequest { TTL = 30 });
        using var stream = leases.LeaseKeepAlive();
        await stream.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = granted.ID });
        Assert.True(await stream.ResponseStream.MoveNext());

        // The client keeps its side open and sends nothing more, as a client between two renewals does.
        var clock = Stopwatch.StartNew();
        var stopping = _cluster.StopAsync("m2");
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await stream.ResponseStream.MoveNext())
            {
            }
        });
        Assert.True(EtcdErrors.ServerStopped.Matches(error), $"{error.StatusCode}: {error.Status.Detail}");
        await stopping;
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the member took {clock.Elapsed.TotalSeconds:0.0} s to stop");
    }
}
