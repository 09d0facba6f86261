using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;

namespace Kvorum.Server.Tests.Cluster;

/// <summary>
/// MemberList's <c>linearizable</c> field (etcd 3.5's clients set it by default, and so does <c>kvorum member list</c>):
/// a linearizable list waits for a ReadIndex as a linearizable range read does, a serializable one answers from the
/// member's own table at once.
/// </summary>
public sealed class MemberListConsistencyTests
{
    [Fact]
    public async Task A_linearizable_member_list_needs_the_leader_and_a_serializable_one_does_not()
    {
        await using var cluster = new LocalCluster(3);
        cluster.StartAll();
        using (var client = await cluster.ConnectAsync())
            await client.PutAsync("k", "v");

        using var channel = GrpcChannel.ForAddress(cluster.ClientUrl("m3"));
        var members = new Kvorum.Etcd.Api.Cluster.ClusterClient(channel);
        Assert.Equal(3, (await members.MemberListAsync(new MemberListRequest { Linearizable = true })).Members.Count);

        await cluster.StopAsync("m1");
        await cluster.StopAsync("m2");
        Assert.Equal(3, (await members.MemberListAsync(new MemberListRequest { Linearizable = false }, deadline: DateTime.UtcNow.AddSeconds(5))).Members.Count);
        // Alone, m3 cannot learn what the cluster has committed: the list is refused, not answered from its table.
        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
            await members.MemberListAsync(new MemberListRequest { Linearizable = true }, deadline: DateTime.UtcNow.AddSeconds(3)));
        Assert.Contains(refused.StatusCode, new[] { StatusCode.DeadlineExceeded, StatusCode.Unavailable });
    }
}
