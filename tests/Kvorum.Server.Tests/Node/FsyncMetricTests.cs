using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Tests.Node;

/// <summary>
/// <c>kvorum_wal_fsync_duration_seconds</c> counts the writes that wait for the disk. A follower learns each
/// commit index in a message of its own and queues it without an fsync (etcd's MustSync rule); such a write
/// is not an fsync and must not be counted as one.
/// </summary>
public sealed class FsyncMetricTests
{
    [Fact]
    public async Task A_follower_counts_one_fsync_per_put_not_one_more_for_each_commit_index_it_learns()
    {
        await using var cluster = InMemoryCluster.Start(3);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(20));
        var followers = cluster.Nodes.Where(n => n != leader).ToList();
        var before = followers.Select(f => f.Metrics.Fsync.Read().Count).ToList();

        // One put at a time: each is appended to a follower (an fsync) and later committed there (a commit
        // index alone, in the next append or heartbeat).
        const int puts = 100;
        for (var i = 0; i < puts; i++)
        {
            await leader.ProposeAsync<PutResponse>(
                new InternalRequest { Put = new PutRequest { Key = ByteString.CopyFromUtf8($"k{i}"), Value = ByteString.CopyFromUtf8("v") } },
                CancellationToken.None);
        }
        await Task.Delay(200); // the last commit index reaches the followers with a heartbeat

        for (var f = 0; f < followers.Count; f++)
        {
            var counted = followers[f].Metrics.Fsync.Read().Count - before[f];
            Assert.InRange(counted, puts / 2, puts + 10);
        }
    }
}
