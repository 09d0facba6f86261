using Grpc.Core;
using Kvorum.Server.Transport;
using Kvorum.Tests.Shared;

namespace Kvorum.Server.Tests.Transport;

/// <summary>A follower's forwarding of keep-alives (<see cref="LeaderForwarder"/>) when the leader cannot be reached.</summary>
public sealed class LeaseForwarderTests
{
    [Fact]
    public async Task An_unreachable_leader_is_an_rpc_failure_within_the_timeout_also_after_its_channel_was_retired()
    {
        using var forwarder = new LeaderForwarder(new TransportOptions());
        Uri[] nobody = [new($"http://127.0.0.1:{FreePorts.Next()}")];

        var first = await Assert.ThrowsAsync<RpcException>(() => forwarder.RenewAsync(nobody, 1, 7, TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Equal(StatusCode.Unavailable, first.StatusCode);

        // The member moved away: its channel is closed, and the next call opens a fresh one instead of failing on the old.
        forwarder.Retain([]);
        var second = await Assert.ThrowsAsync<RpcException>(() => forwarder.TimeToLiveAsync(nobody, 1, 7, keys: false, TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Equal(StatusCode.Unavailable, second.StatusCode);
    }
}
