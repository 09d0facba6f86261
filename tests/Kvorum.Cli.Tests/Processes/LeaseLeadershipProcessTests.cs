using Grpc.Core;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// A leader that has lost its followers must not acknowledge keep-alives: the majority that elects the next leader
/// never hears of them and expires the lease on its own clock, sooner than the client was promised.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class LeaseLeadershipProcessTests() : EtcdctlClusterTest(3, "--heartbeat-interval", "50", "--election-timeout", "500")
{
    /// <summary>One keep-alive on a fresh stream to <paramref name="member"/>; its answer, or the failure's status.</summary>
    private async Task<(long? Ttl, StatusCode? Failure)> KeepAliveOnceAsync(string member, long lease, TimeSpan timeout)
    {
        using var call = new Kvorum.Etcd.Api.Lease.LeaseClient(Cluster.Channel(member)).LeaseKeepAlive(deadline: DateTime.UtcNow + timeout);
        try
        {
            await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = lease });
            return await call.ResponseStream.MoveNext() ? (call.ResponseStream.Current.TTL, null) : (null, StatusCode.OK);
        }
        catch (RpcException e)
        {
            return (null, e.StatusCode);
        }
    }

    [Fact]
    public async Task A_leader_whose_followers_stopped_answering_does_not_renew_a_lease()
    {
        var leader = await Cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30));
        var lease = await new Kvorum.Etcd.Api.Lease.LeaseClient(Cluster.Channel(leader)).LeaseGrantAsync(new LeaseGrantRequest { TTL = 30 });
        var healthy = await KeepAliveOnceAsync(leader, lease.ID, TimeSpan.FromSeconds(10));
        Assert.Equal(30, healthy.Ttl);

        var followers = Cluster.Members.Keys.Where(n => n != leader).ToList();
        foreach (var f in followers)
            Cluster.Pause(f, paused: true);
        try
        {
            // The leader still believes it leads for up to an election timeout (CheckQuorum), long enough to answer a
            // keep-alive at once if it did not ask a quorum first.
            var cutOff = await KeepAliveOnceAsync(leader, lease.ID, TimeSpan.FromSeconds(2));
            Assert.True(cutOff.Ttl is null, $"the cut-off leader renewed the lease (TTL {cutOff.Ttl})");
        }
        finally
        {
            foreach (var f in followers)
                Cluster.Pause(f, paused: false);
        }

        // Once a quorum is back, renewals work again, wherever they are sent.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        (long? Ttl, StatusCode? Failure) again;
        while ((again = await KeepAliveOnceAsync(leader, lease.ID, TimeSpan.FromSeconds(3))).Ttl is null)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no renewal after the followers came back: {again.Failure}");
            await Task.Delay(200);
        }
        Assert.Equal(30, again.Ttl);
    }
}
