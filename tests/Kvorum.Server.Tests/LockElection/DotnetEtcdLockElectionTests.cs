using Kvorum.Server.Tests.Cluster;

namespace Kvorum.Server.Tests.LockElection;

/// <summary>dotnet-etcd's Lock and Campaign calls against Kvorum: the client most .NET applications use.</summary>
public sealed class DotnetEtcdLockElectionTests
{
    [Fact]
    public async Task Lock_unlock_and_campaign_leader_resign_through_dotnet_etcd()
    {
        await using var cluster = new LocalCluster(1);
        cluster.StartAll();
        using var client = await cluster.ConnectAsync();
        var lease = await client.LeaseGrantAsync(new Etcdserverpb.LeaseGrantRequest { TTL = 60 });

        var held = await client.LockAsync("dl", lease.ID);
        Assert.Equal($"dl/{lease.ID:x}", held.Key.ToStringUtf8());
        await client.UnlockAsync(held.Key.ToStringUtf8());

        var won = await client.CampaignAsync(new V3Electionpb.CampaignRequest { Name = Google.Protobuf.ByteString.CopyFromUtf8("de"), Value = Google.Protobuf.ByteString.CopyFromUtf8("v1"), Lease = lease.ID });
        Assert.Equal($"de/{lease.ID:x}", won.Leader.Key.ToStringUtf8());
        var leader = await client.LeaderAsync("de");
        Assert.Equal("v1", leader.Kv.Value.ToStringUtf8());
        await client.ResignAsync(new V3Electionpb.ResignRequest { Leader = won.Leader });
        var none = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => client.LeaderAsync("de"));
        Assert.Equal((Grpc.Core.StatusCode.Unknown, Kvorum.Etcd.Errors.EtcdErrors.ElectionNoLeader.Message), (none.StatusCode, none.Status.Detail));
    }
}
