using System.Diagnostics;
using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;

namespace Kvorum.Server.Tests.Node;

/// <summary>
/// Reads sent to a member whose loop has stopped fail at once with "server stopped", as writes and queries do,
/// instead of waiting out the request timeout for work that will never run.
/// </summary>
public sealed class StoppedLoopReadsTests
{
    [Fact]
    public async Task Reads_and_member_lists_of_a_stopped_member_fail_at_once()
    {
        var cluster = InMemoryCluster.Start(3);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(20));
        await cluster.DisposeAsync();

        var range = new RangeRequest { Key = ByteString.CopyFromUtf8("k") };
        var serializable = new RangeRequest { Key = ByteString.CopyFromUtf8("k"), Serializable = true };
        var clock = Stopwatch.StartNew();
        foreach (var read in new Func<Task>[]
        {
            () => leader.RangeAsync(range, CancellationToken.None),
            () => leader.RangeAsync(serializable, CancellationToken.None),
            () => leader.MembersAsync(linearizable: true, CancellationToken.None),
        })
        {
            var error = await Assert.ThrowsAsync<EtcdException>(() => read().WaitAsync(TimeSpan.FromSeconds(15)));
            Assert.Equal(EtcdErrors.ServerStopped, error.Error);
        }
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"failed after {clock.ElapsedMilliseconds} ms");
    }
}
