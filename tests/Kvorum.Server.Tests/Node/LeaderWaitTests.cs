using System.Diagnostics;
using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Node;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Tests.Node;

/// <summary>
/// A member that knows no leader keeps writes and linearizable reads waiting for one, as etcd's does, instead of
/// refusing them with "no leader": a client sees a failover as a slower call. A write still waiting at the request
/// timeout fails with "request timed out", and neither it nor one whose client gave up is ever applied.
/// </summary>
public sealed class LeaderWaitTests
{
    private static InternalRequest Put(string key, string value) =>
        new() { Put = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) } };

    private static RangeRequest Get(string key) => new() { Key = ByteString.CopyFromUtf8(key) };

    /// <summary>Cuts every link and waits until <paramref name="member"/> knows no leader.</summary>
    private static async Task IsolateUntilLeaderlessAsync(InMemoryCluster cluster, KvorumNode member)
    {
        cluster.Drop(_ => true);
        var clock = Stopwatch.StartNew();
        while (member.Status.Leader != 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "the member still names a leader 20 s after every link was cut");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_write_and_a_linearizable_read_on_a_member_without_a_leader_wait_for_one_and_succeed_once_it_is_elected()
    {
        await using var cluster = InMemoryCluster.Start(3);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(20));
        await leader.ProposeAsync<PutResponse>(Put("k", "before"), CancellationToken.None);
        var follower = cluster.Nodes.First(n => n != leader);
        await IsolateUntilLeaderlessAsync(cluster, follower);

        var write = follower.ProposeAsync<PutResponse>(Put("k", "during"), CancellationToken.None);
        var read = follower.RangeAsync(Get("k"), CancellationToken.None);
        await Task.Delay(700);
        Assert.False(write.IsCompleted, $"the write ended without a leader: {write.Exception?.InnerException?.Message}");
        Assert.False(read.IsCompleted, $"the read ended without a leader: {read.Exception?.InnerException?.Message}");

        cluster.Drop(_ => false);
        var written = await write.WaitAsync(TimeSpan.FromSeconds(15));
        var got = await read.WaitAsync(TimeSpan.FromSeconds(15));

        Assert.True(written.Header.Revision > 0);
        Assert.Single(got.Kvs);
        var after = await follower.RangeAsync(Get("k"), CancellationToken.None);
        Assert.Equal("during", after.Kvs[0].Value.ToStringUtf8());
    }

    [Fact]
    public async Task A_write_still_without_a_leader_at_the_request_timeout_fails_and_neither_it_nor_a_cancelled_one_is_ever_applied()
    {
        await using var cluster = InMemoryCluster.Start(3);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(20));
        await leader.ProposeAsync<PutResponse>(Put("warm", "up"), CancellationToken.None);
        var follower = cluster.Nodes.First(n => n != leader);
        await IsolateUntilLeaderlessAsync(cluster, follower);

        using var giveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var cancelled = await Assert.ThrowsAsync<EtcdException>(() => follower.ProposeAsync<PutResponse>(Put("cancelled", "x"), giveUp.Token).WaitAsync(TimeSpan.FromSeconds(15)));
        var clock = Stopwatch.StartNew();
        var timedOut = await Assert.ThrowsAsync<EtcdException>(() => follower.ProposeAsync<PutResponse>(Put("timed-out", "x"), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(15)));
        var waited = clock.Elapsed;

        Assert.Equal(EtcdErrors.Cancelled, cancelled.Error);
        Assert.Equal(EtcdErrors.TimedOut, timedOut.Error);
        // The request timeout is max(5 s, 5 election timeouts of 500 ms); the loop checks it on each 50 ms tick.
        Assert.InRange(waited, TimeSpan.FromSeconds(4.9), TimeSpan.FromSeconds(9));

        cluster.Drop(_ => false);
        await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(20));
        await follower.ProposeAsync<PutResponse>(Put("after", "heal"), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(15));
        foreach (var member in cluster.Nodes)
        {
            var read = await member.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("a"), RangeEnd = ByteString.CopyFromUtf8("u") }, CancellationToken.None);
            Assert.Equal(["after"], read.Kvs.Select(kv => kv.Key.ToStringUtf8()));
        }
    }

    [Fact]
    public async Task A_membership_change_on_a_member_without_a_leader_waits_for_one_and_is_applied_once_it_is_elected()
    {
        await using var cluster = InMemoryCluster.Start(3);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(20));
        var follower = cluster.Nodes.First(n => n != leader);
        var removed = cluster.Nodes.First(n => n != leader && n != follower);
        await IsolateUntilLeaderlessAsync(cluster, follower);

        var change = follower.ChangeMembershipAsync(new Kvorum.Raft.ConfChange(Kvorum.Raft.ConfChangeType.RemoveNode, removed.MemberId), CancellationToken.None);
        await Task.Delay(700);
        Assert.False(change.IsCompleted, $"the change ended without a leader: {change.Exception?.InnerException?.Message}");

        cluster.Drop(_ => false);
        var members = await change.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.DoesNotContain(members, m => m.ID == removed.MemberId);
        Assert.Equal(2, members.Length);
    }
}
