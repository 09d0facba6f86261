using Grpc.Core;
using Grpc.Net.Client;
using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Tests.Cluster;
using EtcdLease = Kvorum.Etcd.Api.Lease;

namespace Kvorum.Server.Tests.Lease;

/// <summary>A grant counts against <c>--quota-backend-bytes</c> (64 bytes, as etcd's lease overhead) and is refused under NOSPACE.</summary>
public sealed class LeaseQuotaTests
{
    [Fact]
    public async Task A_grant_is_refused_with_NOSPACE_once_the_store_is_full()
    {
        await using var cluster = new LocalCluster(1);
        var name = cluster.Names.Single();
        cluster.Options[name] = cluster.Options[name] with { QuotaBackendBytes = 16 * 1024 };
        cluster.StartAll();
        using (await cluster.ConnectAsync())
        {
        }
        using var channel = GrpcChannel.ForAddress(cluster.ClientUrl(name));
        var leases = new EtcdLease.LeaseClient(channel);
        var kv = new KV.KVClient(channel);
        Assert.True((await leases.LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 })).ID != 0);

        var value = ByteString.CopyFromUtf8(new string('v', 1024));
        RpcException? refused = null;
        for (var i = 0; i < 100 && refused is null; i++)
        {
            try
            {
                await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8($"k{i}"), Value = value });
            }
            catch (RpcException e)
            {
                refused = e;
            }
        }
        Assert.NotNull(refused);
        var grant = await Assert.ThrowsAsync<RpcException>(() => leases.LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 }).ResponseAsync);
        Assert.Equal((StatusCode.ResourceExhausted, EtcdErrors.NoSpace.Message), (grant.StatusCode, grant.Status.Detail));
    }
}
