using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Tests.Node;

/// <summary>What Status reports as db_size (the data directory's files) and db_size_in_use (snapshot plus the log since).</summary>
public sealed class StorageSizesTests
{
    [Fact]
    public async Task The_data_on_disk_and_in_use_grow_with_writes_and_a_snapshot_keeps_what_is_in_use_near_the_state()
    {
        await using var cluster = InMemoryCluster.Start(3, snapshotCount: 200);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(20));
        var (diskAtStart, inUseAtStart) = leader.StorageSizes();
        Assert.True(diskAtStart > 0, "a member's data directory holds its WAL from the start");

        // 150 distinct keys with 1 KiB values (fewer entries than the snapshot count: no snapshot yet).
        var value = ByteString.CopyFrom(new byte[1024]);
        async Task PutAsync(int i) => await leader.ProposeAsync<PutResponse>(
            new InternalRequest { Put = new PutRequest { Key = ByteString.CopyFromUtf8($"k{i:D4}"), Value = value } }, CancellationToken.None);
        for (var i = 0; i < 150; i++)
            await PutAsync(i);
        var (disk, inUse) = leader.StorageSizes();
        Assert.InRange(inUse - inUseAtStart, 150 * 1024, 150 * 1400);
        Assert.True(disk >= inUse, $"on disk {disk} < in use {inUse}");

        // Overwrite the same keys until snapshots were taken: the state stays 150 keys' latest values plus their
        // history, and what is in use is the snapshot (the whole history) plus the log since it.
        for (var i = 0; i < 450; i++)
            await PutAsync(i % 150);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Interlocked.Read(ref leader.Metrics.SnapshotsTaken) == 0 && DateTime.UtcNow < deadline)
            await Task.Delay(20);
        Assert.True(Interlocked.Read(ref leader.Metrics.SnapshotsTaken) > 0, "no snapshot was taken");
        (disk, inUse) = leader.StorageSizes();
        // 600 versions of 1 KiB are in the store (no compaction): the snapshot alone holds about 600 KiB.
        Assert.InRange(inUse, 600 * 1024, 2 * 600 * 1400);
        Assert.True(disk >= inUse, $"on disk {disk} < in use {inUse}");
    }

    [Fact]
    public async Task What_is_in_use_never_reads_below_the_history_written_while_snapshots_are_committed()
    {
        await using var cluster = InMemoryCluster.Start(1, snapshotCount: 50);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(20));
        var value = ByteString.CopyFrom(new byte[1024]);
        var acknowledged = 0;
        using var done = new CancellationTokenSource();
        // Every version stays (no compaction), so the snapshot plus the log since holds at least 1 KiB per
        // acknowledged put, whichever moment Status looks.
        var sampler = Task.Run(() =>
        {
            var samples = 0;
            while (!done.IsCancellationRequested)
            {
                var before = Volatile.Read(ref acknowledged);
                var (_, inUse) = leader.StorageSizes();
                Assert.True(inUse >= before * 1024L, $"in use {inUse} after {before} puts of 1 KiB (sample {samples})");
                samples++;
            }
            return samples;
        });
        for (var i = 0; i < 1000; i++)
        {
            await leader.ProposeAsync<PutResponse>(
                new InternalRequest { Put = new PutRequest { Key = ByteString.CopyFromUtf8($"k{i % 10}"), Value = value } }, CancellationToken.None);
            Interlocked.Increment(ref acknowledged);
        }
        await done.CancelAsync();
        var samples = await sampler;
        Assert.True(Interlocked.Read(ref leader.Metrics.SnapshotsTaken) >= 3, $"only {leader.Metrics.SnapshotsTaken} snapshots");
        Assert.True(samples > 1000, $"only {samples} samples");
    }
}
