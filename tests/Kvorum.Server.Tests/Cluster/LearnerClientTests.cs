using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;

namespace Kvorum.Server.Tests.Cluster;

/// <summary>
/// What a learner serves to clients, as etcd's learner: Status, a serializable Range and the Snapshot stream (and HashKV); every
/// other etcd call fails with Unavailable "etcdserver: rpc not supported for learner", so that clients try another
/// member. Once promoted, it serves everything.
/// </summary>
public sealed class LearnerClientTests
{
    [Fact]
    public async Task A_learner_serves_status_serializable_reads_and_snapshots_and_refuses_the_rest_until_promoted()
    {
        await using var cluster = new LocalCluster(3);
        cluster.StartAll();
        using (var client = await cluster.ConnectAsync())
            await client.PutAsync("k", "v");
        using var first = GrpcChannel.ForAddress(cluster.ClientUrl("m1"));
        var membership = new Kvorum.Etcd.Api.Cluster.ClusterClient(first);
        var peer = cluster.DefineJoining("m4");
        var added = await membership.MemberAddAsync(new MemberAddRequest { PeerURLs = { peer.ToString().TrimEnd('/') }, IsLearner = true });
        cluster.Start("m4");

        using var channel = GrpcChannel.ForAddress(cluster.ClientUrl("m4"));
        var kv = new KV.KVClient(channel);
        var maintenance = new Maintenance.MaintenanceClient(channel);
        // Status is served at once; a serializable read sees the key once the learner has caught up.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                // Until it has applied its own addition, a joining member does not know it is a learner (nor does etcd's).
                var status = await maintenance.StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(2));
                var read = await kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("k"), Serializable = true }, deadline: DateTime.UtcNow.AddSeconds(2));
                if (status.IsLearner && read.Kvs.Count == 1)
                    break;
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
            {
                // Still starting.
            }
            Assert.True(DateTime.UtcNow < deadline, "the learner did not catch up: " + await cluster.DescribeAsync());
            await Task.Delay(100);
        }
        using (var snapshot = maintenance.Snapshot(new SnapshotRequest()))
            Assert.True(await snapshot.ResponseStream.MoveNext());
        Assert.NotEqual(0u, (await maintenance.HashKVAsync(new HashKVRequest())).Hash); // beyond etcd: a learner's copy can be checked

        await AssertRefused(() => kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("k") }).ResponseAsync);
        await AssertRefused(() => kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("w") }).ResponseAsync);
        await AssertRefused(() => kv.TxnAsync(new TxnRequest()).ResponseAsync);
        await AssertRefused(() => new Kvorum.Etcd.Api.Cluster.ClusterClient(channel).MemberListAsync(new MemberListRequest()).ResponseAsync);
        await AssertRefused(() => new Kvorum.Etcd.Api.Lease.LeaseClient(channel).LeaseGrantAsync(new LeaseGrantRequest { TTL = 10 }).ResponseAsync);
        await AssertRefused(() => new Kvorum.Etcd.Api.V3Lock.Lock.LockClient(channel).LockAsync(new Kvorum.Etcd.Api.V3Lock.LockRequest { Name = ByteString.CopyFromUtf8("l") }).ResponseAsync);
        await AssertRefused(async () =>
        {
            // Refused when the stream opens, before any request is read.
            using var watch = new Kvorum.Etcd.Api.Watch.WatchClient(channel).Watch();
            await watch.ResponseStream.MoveNext();
        });

        // Promoted, it serves everything.
        await membership.MemberPromoteAsync(new MemberPromoteRequest { ID = added.Member.ID });
        deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                var read = await kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("k") }, deadline: DateTime.UtcNow.AddSeconds(2));
                Assert.Equal("v", read.Kvs[0].Value.ToStringUtf8());
                break;
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    private static async Task AssertRefused(Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal((StatusCode.Unavailable, EtcdErrors.NotSupportedForLearner.Message), (e.StatusCode, e.Status.Detail));
    }
}
