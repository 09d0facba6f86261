using dotnet_etcd;
using Etcdserverpb;
using Grpc.Core;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Node;

namespace Kvorum.Server.Tests.Cluster;

/// <summary>
/// <c>--auto-compaction-mode revision --auto-compaction-retention N</c> on a real 3-member cluster: the leader compacts
/// on its own, through Raft, so that every member keeps only the last N revisions, and the store's size drops with it.
/// </summary>
public sealed class AutoCompactionClusterTests
{
    [Fact]
    public async Task The_leader_compacts_to_the_last_revisions_on_every_member()
    {
        await using var cluster = new LocalCluster(3);
        foreach (var name in cluster.Names.ToList())
        {
            cluster.Options[name] = cluster.Options[name] with
            {
                AutoCompactionMode = AutoCompactionMode.Revision,
                AutoCompactionRevisions = 10,
                AutoCompactionCheckInterval = TimeSpan.FromMilliseconds(100),
            };
        }
        cluster.StartAll();
        using var client = await cluster.ConnectAsync();
        for (var i = 0; i < 60; i++)
            await client.PutAsync("k", $"v{i}");
        var revision = (await client.GetAsync("k")).Header.Revision;

        // Within a few checks the history before revision - 10 is gone on every member (each answers reads itself).
        foreach (var endpoint in cluster.Endpoints.Split(','))
        {
            using var member = new EtcdClient(endpoint);
            var deadline = DateTime.UtcNow.AddSeconds(10);
            RpcException? compacted = null;
            while (compacted is null && DateTime.UtcNow < deadline)
            {
                try
                {
                    await member.GetAsync(new RangeRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("k"), Revision = revision - 20, Serializable = true });
                    await Task.Delay(50);
                }
                catch (RpcException e)
                {
                    compacted = e;
                }
            }
            Assert.NotNull(compacted);
            Assert.Equal(EtcdErrors.Compacted.Message, compacted.Status.Detail);
            // What the retention keeps is still there.
            var kept = await member.GetAsync(new RangeRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("k"), Revision = revision - 5, Serializable = true });
            Assert.Equal("v54", kept.Kvs.Single().Value.ToStringUtf8());
        }
    }
}
