using Google.Protobuf;
using Kvorum.Raft;
using Kvorum.Etcd.Api;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Tests.Node;

/// <summary>
/// Linearizable reads share ReadIndex requests: while one request waits for its heartbeat round, the reads that
/// arrive queue behind it and go out together in the next one, as in etcd's read loop.
/// </summary>
public sealed class ReadIndexBatchingTests
{
    [Fact]
    public async Task Reads_that_arrive_while_a_read_index_is_in_flight_share_the_next_one()
    {
        await using var cluster = InMemoryCluster.Start(3);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(20));
        await leader.ProposeAsync<PutResponse>(
            new InternalRequest { Put = new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("v") } },
            CancellationToken.None);
        var before = Interlocked.Read(ref leader.Metrics.ReadIndexRequests);

        // Hold the first read's heartbeat round: its ReadIndex stays in flight.
        cluster.Drop(m => m.Type == MessageType.Heartbeat && m.Index != 0);
        var reads = new List<Task<RangeResponse>> { leader.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("k") }, CancellationToken.None) };
        await WaitUntilAsync(() => Interlocked.Read(ref leader.Metrics.ReadIndexRequests) == before + 1);

        // Ten more reads, each in a loop iteration of its own.
        for (var i = 0; i < 10; i++)
        {
            reads.Add(leader.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("k") }, CancellationToken.None));
            await Task.Delay(20);
        }
        Assert.Equal(before + 1, Interlocked.Read(ref leader.Metrics.ReadIndexRequests));
        Assert.All(reads, r => Assert.False(r.IsCompleted));

        // Let heartbeats through: the held request is asked again, and the queued reads follow in one more.
        cluster.Drop(_ => false);
        var answers = await Task.WhenAll(reads).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.All(answers, a => Assert.Equal("v", a.Kvs.Single().Value.ToStringUtf8()));
        Assert.Equal(before + 2, Interlocked.Read(ref leader.Metrics.ReadIndexRequests));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached within 10 s");
            await Task.Delay(5);
        }
    }
}
