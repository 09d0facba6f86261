using Grpc.Core;
using Ours = Kvorum.Etcd.Api;

namespace Kvorum.Server.Tests.Protos;

/// <summary>The gRPC server bases and clients are generated for every service.</summary>
public class GeneratedStubTests
{
    [Fact]
    public async Task Server_bases_exist_and_answer_unimplemented_until_overridden()
    {
        Type[] bases =
        [
            typeof(Ours.KV.KVBase), typeof(Ours.Watch.WatchBase), typeof(Ours.Lease.LeaseBase),
            typeof(Ours.Cluster.ClusterBase), typeof(Ours.Maintenance.MaintenanceBase), typeof(Ours.Auth.AuthBase),
        ];
        Assert.All(bases, type => Assert.True(type.IsAbstract));

        var kv = new UnimplementedKv();
        var error = await Assert.ThrowsAsync<RpcException>(() => kv.Range(new Ours.RangeRequest(), null!));
        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
    }

    [Fact]
    public void Clients_exist()
    {
        Assert.NotNull(typeof(Ours.KV.KVClient).GetMethod(nameof(Ours.KV.KVClient.TxnAsync), [typeof(Ours.TxnRequest), typeof(CallOptions)]));
    }

    private sealed class UnimplementedKv : Ours.KV.KVBase;
}
