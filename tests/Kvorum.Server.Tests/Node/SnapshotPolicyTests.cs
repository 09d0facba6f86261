using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Tests.Node;

/// <summary>When a member snapshots: every --snapshot-count entries, but no sooner than the log reaches a share of the last snapshot (thesis §5.1.3).</summary>
public sealed class SnapshotPolicyTests
{
    [Fact]
    public async Task As_the_state_grows_snapshots_wait_for_a_log_of_half_their_size_not_just_for_the_entry_count()
    {
        const int writes = 3000;
        const ulong count = 100;
        await using var cluster = InMemoryCluster.Start(3, snapshotCount: count);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(20));

        // Distinct 1 KiB values: the state grows by about as much as the log.
        var value = ByteString.CopyFrom(new byte[1024]);
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, 32).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) <= writes)
            {
                await leader.ProposeAsync<PutResponse>(
                    new InternalRequest { Put = new PutRequest { Key = ByteString.CopyFromUtf8($"k{i:D5}"), Value = value } },
                    CancellationToken.None);
            }
        }));
        await Task.Delay(500); // a snapshot begun at the end may still be writing

        // By count alone: up to 30 snapshots (fewer when one is still being written as the next falls due).
        // With the share: after 200 entries each interval is half the entries so far (100, 200, 300, 450, 675,
        // 1012, 1518, 2277): 8 at most, fewer on a loaded machine (a quarter would allow 13).
        var taken = Interlocked.Read(ref leader.Metrics.SnapshotsTaken);
        Assert.InRange(taken, 3, 10);
    }
}
