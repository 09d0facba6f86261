using System.Diagnostics;
using Google.Protobuf;
using Kvorum.Raft;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Tests.Node;

/// <summary>
/// A write that cannot commit fails after the request timeout, which the loop's ticks enforce (not a timer per
/// request); a cancelled one fails at once; and the member goes on serving.
/// </summary>
public sealed class ProposalDeadlineTests
{
    private static InternalRequest Put(string key, string value) =>
        new() { Put = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) } };

    [Fact]
    public async Task A_write_that_cannot_commit_times_out_after_the_request_timeout_and_the_member_then_serves_writes()
    {
        await using var cluster = InMemoryCluster.Start(3);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(20));
        await leader.ProposeAsync<PutResponse>(Put("warm", "up"), CancellationToken.None);

        // The followers get the entry, but the leader never hears that they did: no commit. Heartbeats still flow,
        // so the leader keeps its term.
        cluster.Drop(m => m.Type == MessageType.AppendResponse);
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<EtcdException>(() => leader.ProposeAsync<PutResponse>(Put("k", "v"), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(15)));
        var waited = clock.Elapsed;

        Assert.Equal(EtcdErrors.TimedOut, error.Error);
        // The request timeout is max(5 s, 5 election timeouts of 500 ms), read from the clock; the loop checks deadlines
        // on each 50 ms tick. (Counted in ticks, it would stretch whenever the ticker came late: hence the bound.)
        Assert.InRange(waited, TimeSpan.FromSeconds(4.9), TimeSpan.FromSeconds(8));

        cluster.Drop(_ => false);
        var after = await leader.ProposeAsync<PutResponse>(Put("k2", "v2"), CancellationToken.None);
        Assert.True(after.Header.Revision > 0);
    }

    [Fact]
    public async Task A_cancelled_write_fails_with_context_canceled_at_once()
    {
        await using var cluster = InMemoryCluster.Start(3);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(20));
        cluster.Drop(m => m.Type == MessageType.AppendResponse);

        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<EtcdException>(() => leader.ProposeAsync<PutResponse>(Put("k", "v"), cancel.Token).WaitAsync(TimeSpan.FromSeconds(15)));

        Assert.Equal(EtcdErrors.Cancelled, error.Error);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"failed after {clock.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task A_write_to_a_member_whose_loop_has_stopped_fails_at_once()
    {
        var cluster = InMemoryCluster.Start(3);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(20));
        await cluster.DisposeAsync();

        var error = await Assert.ThrowsAsync<EtcdException>(
            () => leader.ProposeAsync<PutResponse>(Put("k", "v"), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(15)));
        Assert.Equal(EtcdErrors.ServerStopped, error.Error);
    }
}
