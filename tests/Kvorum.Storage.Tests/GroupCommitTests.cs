using System.Collections.Concurrent;
using Kvorum.Raft;

namespace Kvorum.Storage.Tests;

/// <summary>
/// The group committer under concurrency: batches held behind an fsync, fsyncs that fail, many writers across
/// segment changes, closing with appends queued. fsyncs are held or failed through the writer's test hook.
/// </summary>
public class GroupCommitTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>Blocks the fsync calls numbered in <see cref="Hold"/> (1-based) until released.</summary>
    private sealed class SyncControl : IDisposable
    {
        private readonly ManualResetEventSlim _release = new();
        private readonly SemaphoreSlim _held = new(0);
        private int _calls;

        public HashSet<int> Hold { get; } = [];

        public Func<int, Exception?> FailWith { get; set; } = _ => null;

        public int Calls => Volatile.Read(ref _calls);

        public void OnSync(SegmentWriter writer)
        {
            var call = Interlocked.Increment(ref _calls);
            if (Hold.Contains(call))
            {
                _held.Release();
                _release.Wait(Patience);
            }
            if (FailWith(call) is { } e)
                throw e;
        }

        public void WaitUntilHeld() => Assert.True(_held.Wait(Patience), "no fsync was held");

        public void Release() => _release.Set();

        public void Dispose()
        {
            _release.Set();
            _release.Dispose();
            _held.Dispose();
        }
    }

    private static DiskRaftStorage Open(string dir, SyncControl control, long segmentSize = StorageOptions.DefaultSegmentSize) =>
        DiskRaftStorage.Open(new StorageOptions
        {
            DataDirectory = dir,
            SegmentSize = segmentSize,
            ConfigureWriter = w => w.SyncFault = control.OnSync,
        });

    [Fact]
    public async Task Appends_queued_behind_a_running_fsync_share_the_next_one_and_are_acknowledged_only_after_it()
    {
        using var dir = new TempDir();
        using var control = new SyncControl { Hold = { 1 } };
        using var s = Open(dir.Path, control);

        var first = s.AppendAsync(1, Fixtures.Payload(1)).AsTask();
        control.WaitUntilHeld();
        var queued = Enumerable.Range(0, 40).Select(i => Task.Run(() => s.AppendAsync(1, Fixtures.Payload(100 + (ulong)i)).AsTask())).ToArray();
        await Until(() => s.LastIndex >= 41);
        await Task.Delay(20);
        Assert.False(first.IsCompleted, "acknowledged before its fsync returned");
        Assert.DoesNotContain(queued, t => t.IsCompleted);

        control.Release();
        var indexes = await Task.WhenAll(queued).WaitAsync(Patience);
        Assert.Equal(1ul, await first);
        Assert.Equal(Enumerable.Range(2, 40).Select(i => (ulong)i), indexes.Order());
        Assert.Equal(2, control.Calls); // the held batch, then all 40 together
    }

    [Fact]
    public async Task A_failed_fsync_fails_its_batch_the_queued_ones_and_every_later_write()
    {
        using var dir = new TempDir();
        using (var control = new SyncControl { Hold = { 2 } })
        {
            // From the second fsync on, the device fails.
            control.FailWith = call => call >= 2 ? new IOException("Input/output error") : null;
            using var s = Open(dir.Path, control);
            Assert.Equal(1ul, await s.AppendAsync(1, Fixtures.Payload(1)));

            var doomed = s.AppendAsync(1, Fixtures.Payload(2)).AsTask();
            control.WaitUntilHeld();
            // These wait in the pending batch behind the held fsync.
            var queued = Enumerable.Range(0, 20).Select(i => Task.Run(() => s.AppendAsync(1, Fixtures.Payload(10 + (ulong)i)).AsTask())).ToArray();
            await Until(() => s.LastIndex >= 22 || queued.Any(t => t.IsFaulted));
            Assert.DoesNotContain(queued, t => t.IsCompletedSuccessfully);
            control.Release();

            var e = await Assert.ThrowsAsync<StorageFailedException>(() => doomed.WaitAsync(Patience));
            Assert.Contains("Input/output error", e.Message, StringComparison.Ordinal);
            foreach (var t in queued)
                await Assert.ThrowsAsync<StorageFailedException>(() => t.WaitAsync(Patience));
            await Assert.ThrowsAsync<StorageFailedException>(async () => await s.AppendAsync(1, Fixtures.Payload(99)));
            Assert.Throws<StorageFailedException>(() => s.Save(new HardState(2, 0, 0), []));
        }

        // Whatever reached the file is a valid log that starts with the acknowledged entry.
        using var reopened = Fixtures.Open(dir.Path);
        var all = Fixtures.All(reopened);
        Assert.Equal(Fixtures.Payload(1), all[0].Data.ToArray());
        Assert.Equal(Enumerable.Range(1, all.Count).Select(i => (ulong)i), all.Select(x => x.Index));
    }

    [Fact]
    public async Task Many_writers_across_many_segments_are_all_acknowledged_and_survive_reopen()
    {
        using var dir = new TempDir();
        var acked = new ConcurrentDictionary<ulong, byte[]>();
        var options = new StorageOptions { DataDirectory = dir.Path, SegmentSize = 4096 };
        using (var s = DiskRaftStorage.Open(options))
        {
            var writers = Enumerable.Range(0, 64).Select(w => Task.Run(async () =>
            {
                for (var i = 0; i < 10; i++)
                {
                    var data = Fixtures.Payload((ulong)(w * 1000 + i), 60);
                    var index = await s.AppendAsync(1, data);
                    Assert.True(acked.TryAdd(index, data));
                }
            }));
            await Task.WhenAll(writers).WaitAsync(Patience);
            Assert.Equal(640ul, s.LastIndex);
            Assert.True(s.SegmentCount > 10, $"{s.SegmentCount} segments");
            Assert.True(s.FsyncCount < 640, $"{s.FsyncCount} fsyncs for 640 appends: no group commit");
        }
        using (var s = DiskRaftStorage.Open(options))
        {
            Assert.Equal(0, s.Recovery.TruncatedBytes);
            Assert.Equal(640ul, s.LastIndex);
            var all = Fixtures.All(s);
            foreach (var entry in all)
                Assert.Equal(acked[entry.Index], entry.Data.ToArray());
        }
    }

    [Fact]
    public async Task Dispose_writes_and_acknowledges_every_queued_append()
    {
        using var dir = new TempDir();
        using var control = new SyncControl { Hold = { 1 } };
        Task<ulong>[] appends;
        using (var s = Open(dir.Path, control))
        {
            appends = [.. Enumerable.Range(0, 30).Select(i => s.AppendAsync(1, Fixtures.Payload((ulong)i + 1)).AsTask())];
            control.WaitUntilHeld();
            // Dispose starts while the first fsync is held, and must wait for it and write the rest.
            _ = Task.Delay(50).ContinueWith(_ => control.Release(), TaskScheduler.Default);
        }
        Assert.Equal(Enumerable.Range(1, 30).Select(i => (ulong)i), (await Task.WhenAll(appends)).Order());
        using var reopened = Fixtures.Open(dir.Path);
        Assert.Equal(30ul, reopened.LastIndex);
    }

    [Fact]
    public async Task Writers_that_stop_coming_back_do_not_hold_up_a_lone_append()
    {
        using var dir = new TempDir();
        using var s = Fixtures.Open(dir.Path);
        // 32 writers are acknowledged together; the committer then expects them back, but only one returns.
        await Task.WhenAll(Enumerable.Range(0, 32).Select(i => Task.Run(() => s.AppendAsync(1, Fixtures.Payload((ulong)i)).AsTask())));
        var lone = s.AppendAsync(1, Fixtures.Payload(99)).AsTask();
        Assert.Equal(33ul, await lone.WaitAsync(Patience));
    }

    private static async Task Until(Func<bool> condition)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < Patience, "condition not reached");
            await Task.Delay(1);
        }
    }
}
