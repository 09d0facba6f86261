using System.Diagnostics;
using Google.Protobuf;
using Kvorum.Raft;
using Kvorum.Etcd.Api;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Tests.Node;

/// <summary>A linearizable read whose read-index request (or answer) is lost asks again, as etcd does.</summary>
public sealed class ReadIndexRetryTests
{
    [Theory]
    [InlineData(MessageType.ReadIndex)]
    [InlineData(MessageType.ReadIndexResponse)]
    public async Task A_lost_read_index_message_is_asked_again_and_the_read_answered_long_before_the_request_timeout(MessageType lost)
    {
        await using var cluster = InMemoryCluster.Start(3);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(20));
        var follower = cluster.Nodes.First(n => n != leader);
        await leader.ProposeAsync<PutResponse>(
            new InternalRequest { Put = new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("v") } },
            CancellationToken.None);

        // Lose the first such message only (the follower asks the leader; the leader answers the follower).
        var lostOne = 0;
        cluster.Drop(m => m.Type == lost && Interlocked.CompareExchange(ref lostOne, 1, 0) == 0);
        var clock = Stopwatch.StartNew();
        var read = await follower.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("k") }, CancellationToken.None);

        Assert.Equal(1, cluster.Dropped);
        Assert.Equal("v", read.Kvs.Single().Value.ToStringUtf8());
        // Asked again after 500 ms; the request timeout is 5 s.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2.5), $"answered after {clock.ElapsedMilliseconds} ms");
    }
}
