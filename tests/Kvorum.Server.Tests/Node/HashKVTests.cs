using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Tests.Node;

/// <summary>Maintenance.HashKV on a member: equal on every member at one revision, and etcd's errors for revisions it cannot hash.</summary>
public sealed class HashKVTests
{
    private static InternalRequest Put(string key, string value) =>
        new() { Put = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) } };

    private static async Task WaitForRevisionAsync(IEnumerable<KvorumNode> nodes, long revision)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (nodes.Any(n => n.Status.Revision < revision))
            await Task.Delay(10, timeout.Token);
    }

    [Fact]
    public async Task Every_member_hashes_the_same_history_and_a_revision_keeps_its_hash_as_writes_go_on()
    {
        // A small snapshot count: members compact their logs (and snapshots are taken) while the writes go on.
        await using var cluster = InMemoryCluster.Start(3, snapshotCount: 50);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(20));
        long revision = 0;
        for (var i = 0; i < 300; i++)
            revision = (await leader.ProposeAsync<PutResponse>(Put($"k{i % 40}", $"v{i}"), CancellationToken.None)).Header.Revision;
        await WaitForRevisionAsync(cluster.Nodes, revision);

        var hashes = await Task.WhenAll(cluster.Nodes.Select(n => n.HashKVAsync(new HashKVRequest { Revision = revision }, CancellationToken.None)));
        Assert.All(hashes, h => Assert.Equal(revision, h.HashRevision));
        Assert.Single(hashes.Select(h => h.Hash).Distinct());

        // A different value at one key gives a different hash; the old revision's hash stays.
        var later = (await leader.ProposeAsync<PutResponse>(Put("k0", "changed"), CancellationToken.None)).Header.Revision;
        await WaitForRevisionAsync(cluster.Nodes, later);
        foreach (var node in cluster.Nodes)
        {
            Assert.Equal(hashes[0].Hash, (await node.HashKVAsync(new HashKVRequest { Revision = revision }, CancellationToken.None)).Hash);
            var now = await node.HashKVAsync(new HashKVRequest(), CancellationToken.None);
            Assert.Equal(later, now.HashRevision);
            Assert.NotEqual(hashes[0].Hash, now.Hash);
        }
    }

    [Fact]
    public async Task A_future_or_compacted_revision_gets_etcds_error()
    {
        await using var cluster = InMemoryCluster.Start(3);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(20));
        for (var i = 0; i < 5; i++)
            await leader.ProposeAsync<PutResponse>(Put($"k{i}", "v"), CancellationToken.None);
        await leader.ProposeAsync<CompactionResponse>(new InternalRequest { Compaction = new CompactionRequest { Revision = 4 } }, CancellationToken.None);

        var future = await Assert.ThrowsAsync<EtcdException>(() => leader.HashKVAsync(new HashKVRequest { Revision = 1000 }, CancellationToken.None));
        Assert.Equal(EtcdErrors.FutureRevision, future.Error);
        var compacted = await Assert.ThrowsAsync<EtcdException>(() => leader.HashKVAsync(new HashKVRequest { Revision = 3 }, CancellationToken.None));
        Assert.Equal(EtcdErrors.Compacted, compacted.Error);
        Assert.Equal(4, (await leader.HashKVAsync(new HashKVRequest(), CancellationToken.None)).CompactRevision);
    }

    [Fact]
    public async Task A_query_to_a_member_whose_loop_has_stopped_fails_at_once()
    {
        var cluster = InMemoryCluster.Start(3);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(20));
        await cluster.DisposeAsync();

        var error = await Assert.ThrowsAsync<EtcdException>(
            () => leader.HashKVAsync(new HashKVRequest(), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(15)));
        Assert.Equal(EtcdErrors.ServerStopped, error.Error);
        await Assert.ThrowsAsync<EtcdException>(() => leader.MembersAsync().WaitAsync(TimeSpan.FromSeconds(15)));
    }
}
