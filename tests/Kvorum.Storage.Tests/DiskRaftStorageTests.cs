using Kvorum.Raft;

namespace Kvorum.Storage.Tests;

public class DiskRaftStorageTests
{
    [Fact]
    public void Saved_entries_and_hard_state_survive_reopen()
    {
        using var dir = new TempDir();
        var model = new MemoryRaftStorage();
        using (var s = Fixtures.Open(dir.Path))
        {
            Assert.True(s.Recovery.Created);
            var batch = Fixtures.Entries(1, 10, 1);
            s.Save(new HardState(1, 2, 5), batch);
            model.Save(new HardState(1, 2, 5), batch);
            Fixtures.AssertSameLog(model, s);
        }
        using (var s = Fixtures.Open(dir.Path))
        {
            Assert.False(s.Recovery.Created);
            Assert.Equal(0, s.Recovery.TruncatedBytes);
            Fixtures.AssertSameLog(model, s);
        }
    }

    [Fact]
    public void A_commit_only_hard_state_costs_no_fsync_and_reaches_the_disk_with_the_next_write()
    {
        using var dir = new TempDir();
        using var copyBefore = new TempDir();
        using var copyAfter = new TempDir();
        using (var s = Fixtures.Open(dir.Path))
        {
            s.Save(new HardState(1, 1, 0), Fixtures.Entries(1, 3, 1));
            var fsyncs = s.FsyncCount;

            s.Save(new HardState(1, 1, 3), []);
            Assert.Equal(fsyncs, s.FsyncCount);
            Assert.Equal(3ul, s.HardState.Commit);
            CopyWal(dir, copyBefore); // what a crash now would leave

            s.Save(null, Fixtures.Entries(4, 1, 1));
            Assert.True(s.FsyncCount > fsyncs);
            CopyWal(dir, copyAfter);

            // A vote is not a commit index: it is synced before Save returns.
            fsyncs = s.FsyncCount;
            s.Save(new HardState(2, 2, 3), []);
            Assert.True(s.FsyncCount > fsyncs);
            s.Save(new HardState(2, 2, 4), []);
        }
        using (var s = Fixtures.Open(copyBefore.Path))
        {
            Assert.Equal(new HardState(1, 1, 0), s.HardState); // the older, smaller commit index: still true
            Assert.Equal(3ul, s.LastIndex);
        }
        using (var s = Fixtures.Open(copyAfter.Path))
        {
            Assert.Equal(new HardState(1, 1, 3), s.HardState);
            Assert.Equal(4ul, s.LastIndex);
        }
        using (var s = Fixtures.Open(dir.Path))
            Assert.Equal(new HardState(2, 2, 4), s.HardState); // written on close
    }

    private static void CopyWal(TempDir from, TempDir to)
    {
        var wal = Directory.CreateDirectory(to.Wal);
        foreach (var f in Directory.GetFiles(from.Wal))
            File.Copy(f, Path.Combine(wal.FullName, Path.GetFileName(f)), overwrite: true);
    }

    [Fact]
    public void Conflict_truncation_replaces_the_suffix_across_segments_and_survives_reopen()
    {
        using var dir = new TempDir();
        var model = new MemoryRaftStorage();
        using (var s = Fixtures.Open(dir.Path, segmentSize: 1024))
        {
            foreach (var st in new IRaftLogStore[] { s, model })
            {
                st.Save(null, Fixtures.Entries(1, 60, 1));
                st.Save(new HardState(2, 1, 10), Fixtures.Entries(20, 5, 2, length: 7));
            }
            Assert.True(s.SegmentCount > 3);
            Assert.Equal(24ul, s.LastIndex);
            Fixtures.AssertSameLog(model, s);
        }
        using (var s = Fixtures.Open(dir.Path, segmentSize: 1024))
        {
            Fixtures.AssertSameLog(model, s);
            // Truncate again to below the first index of the newest segment's name, then append.
            s.Save(null, Fixtures.Entries(3, 2, 3));
            model.Save(null, Fixtures.Entries(3, 2, 3));
            Fixtures.AssertSameLog(model, s);
        }
        using (var s = Fixtures.Open(dir.Path, segmentSize: 1024))
            Fixtures.AssertSameLog(model, s);
    }

    [Fact]
    public void Gap_is_refused_like_the_model()
    {
        using var dir = new TempDir();
        using var s = Fixtures.Open(dir.Path);
        s.Save(null, Fixtures.Entries(1, 3, 1));
        Assert.Throws<InvalidOperationException>(() => s.Save(null, Fixtures.Entries(5, 1, 1)));
        Assert.Equal(3ul, s.LastIndex);
    }

    [Fact]
    public void Compaction_drops_whole_segments_and_keeps_later_entries()
    {
        using var dir = new TempDir();
        var model = new MemoryRaftStorage();
        using (var s = Fixtures.Open(dir.Path, segmentSize: 2048))
        {
            foreach (var st in new IRaftLogStore[] { s, model })
                st.Save(new HardState(1, 1, 150), Fixtures.Entries(1, 200, 1));
            var before = s.SegmentCount;
            Assert.True(before > 5, $"only {before} segments");
            var conf = ConfState.OfVoters(1, 2);
            s.CreateSnapshot(150, conf, new byte[] { 1, 2, 3 });
            model.CreateSnapshot(150, conf, new byte[] { 1, 2, 3 });
            Assert.True(s.SegmentCount < before, $"{s.SegmentCount} segments after compaction, {before} before");
            Assert.Equal(s.SegmentCount, dir.Segments().Length);
            Fixtures.AssertSameLog(model, s);
            // A snapshot at or below the current one is a no-op, like the model.
            s.CreateSnapshot(100, conf, new byte[] { 9 });
            Fixtures.AssertSameLog(model, s);
            Assert.Throws<ArgumentOutOfRangeException>(() => s.CreateSnapshot(500, conf, default));
        }
        using (var s = Fixtures.Open(dir.Path, segmentSize: 2048))
        {
            Fixtures.AssertSameLog(model, s);
            Assert.Single(Directory.GetFiles(Path.Combine(dir.Path, "snap")));
        }
    }

    [Fact]
    public void Segments_from_before_an_installed_snapshot_are_all_removed()
    {
        using var dir = new TempDir();
        using var s = Fixtures.Open(dir.Path, segmentSize: 2048);
        s.Save(null, Fixtures.Entries(1, 100, 1));
        s.ApplySnapshot(new SnapshotMetadata(50, 1, ConfState.OfVoters(1)), new byte[] { 5 });
        Assert.Equal(1, s.SegmentCount);
        Assert.Single(dir.Segments());
        Assert.Equal(51ul, s.FirstIndex);
        Assert.Equal(50ul, s.LastIndex);
    }

    [Fact]
    public void Snapshot_is_written_in_chunks_and_read_back_in_chunks()
    {
        using var dir = new TempDir();
        var data = new byte[300_000];
        new Random(7).NextBytes(data);
        var meta = new SnapshotMetadata(1000, 4, ConfState.OfVoters(1, 2, 3));
        using (var s = Fixtures.Open(dir.Path))
        {
            s.Save(null, Fixtures.Entries(1, 10, 1));
            using (var receiver = s.ReceiveSnapshot(meta))
            {
                for (var off = 0; off < data.Length; off += 7000)
                    receiver.Write(data.AsSpan(off, Math.Min(7000, data.Length - off)));
                Assert.Equal(10ul, s.LastIndex); // nothing changes before commit
                receiver.Commit();
            }
            Assert.Equal(meta, s.Snapshot);
            Assert.Equal(1001ul, s.FirstIndex);
            Assert.Equal(1000ul, s.LastIndex);
        }
        using (var s = Fixtures.Open(dir.Path))
        {
            Assert.Equal(meta, s.Snapshot);
            Assert.Equal(data, s.SnapshotData.ToArray());
            using var stream = s.OpenSnapshot(out var readMeta);
            Assert.Equal(meta, readMeta);
            var back = new MemoryStream();
            var chunk = new byte[4096];
            int n;
            while ((n = stream.Read(chunk)) > 0)
                back.Write(chunk, 0, n);
            Assert.Equal(data, back.ToArray());
        }
    }

    [Fact]
    public void Abandoned_snapshot_receive_changes_nothing()
    {
        using var dir = new TempDir();
        using var s = Fixtures.Open(dir.Path);
        s.Save(null, Fixtures.Entries(1, 5, 1));
        using (var receiver = s.ReceiveSnapshot(new SnapshotMetadata(100, 2, ConfState.OfVoters(1))))
            receiver.Write(new byte[] { 1, 2, 3 });
        Assert.Equal(5ul, s.LastIndex);
        Assert.Empty(Directory.GetFiles(Path.Combine(dir.Path, "snap")));
    }

    [Fact]
    public void Damaged_snapshot_file_fails_open_with_its_name()
    {
        using var dir = new TempDir();
        using (var s = Fixtures.Open(dir.Path))
        {
            s.Save(null, Fixtures.Entries(1, 5, 1));
            s.CreateSnapshot(3, ConfState.OfVoters(1), new byte[100]);
        }
        var file = Directory.GetFiles(Path.Combine(dir.Path, "snap")).Single();
        var bytes = File.ReadAllBytes(file);
        bytes[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(file, bytes);
        var e = Assert.Throws<WalCorruptException>(() => Fixtures.Open(dir.Path));
        Assert.Contains(file, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Second_open_of_a_locked_directory_fails_clearly_and_succeeds_after_close()
    {
        using var dir = new TempDir();
        var first = Fixtures.Open(dir.Path);
        var e = Assert.Throws<IOException>(() => Fixtures.Open(dir.Path));
        Assert.Contains("in use", e.Message, StringComparison.Ordinal);
        Assert.Contains(dir.Path, e.Message, StringComparison.Ordinal);
        first.Dispose();
        using var second = Fixtures.Open(dir.Path);
    }

    [Fact]
    public void A_file_in_place_of_the_data_directory_is_reported()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "not-a-dir");
        File.WriteAllText(path, "x");
        var e = Assert.Throws<IOException>(() => Fixtures.Open(path));
        Assert.Contains("not a directory", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_appends_share_fsyncs_and_all_survive_reopen()
    {
        using var dir = new TempDir();
        var acked = new System.Collections.Concurrent.ConcurrentDictionary<ulong, byte[]>();
        long fsyncs;
        using (var s = Fixtures.Open(dir.Path, segmentSize: 64 * 1024))
        {
            var writers = Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
            {
                for (var i = 0; i < 50; i++)
                {
                    var data = Fixtures.Payload((ulong)(w * 1000 + i), 100);
                    var index = await s.AppendAsync(1, data);
                    Assert.True(acked.TryAdd(index, data));
                }
            }));
            await Task.WhenAll(writers);
            fsyncs = s.FsyncCount;
            Assert.Equal(800ul, s.LastIndex);
        }
        Assert.True(fsyncs < 800, $"{fsyncs} fsyncs for 800 appends: no group commit");
        using (var s = Fixtures.Open(dir.Path, segmentSize: 64 * 1024))
        {
            foreach (var (index, data) in acked)
            {
                var list = new List<Entry>();
                s.GetEntries(index, index + 1, long.MaxValue, list);
                Assert.Equal(data, list[0].Data.ToArray());
            }
        }
    }

    [Fact]
    public void Disk_full_mid_write_leaves_a_consistent_log_and_a_clear_error()
    {
        using var dir = new TempDir();
        var fail = false;
        var options = new StorageOptions
        {
            DataDirectory = dir.Path,
            ConfigureWriter = w => w.Fault = (writer, count) =>
            {
                if (!fail)
                    return;
                // Half the bytes reach the file, then the device is full.
                writer.WriteRawForTest(new byte[count / 2].AsSpan());
                throw new IOException("No space left on device", 28);
            },
        };
        using (var s = DiskRaftStorage.Open(options))
        {
            s.Save(new HardState(1, 1, 0), Fixtures.Entries(1, 5, 1));
            fail = true;
            var e = Assert.Throws<StorageFailedException>(() => s.Save(null, Fixtures.Entries(6, 5, 1)));
            Assert.Contains("disk full", e.Message, StringComparison.Ordinal);
            fail = false;
            // The log refuses further writes rather than guess what reached the disk.
            Assert.Throws<StorageFailedException>(() => s.Save(null, Fixtures.Entries(6, 1, 1)));
        }
        using (var s = Fixtures.Open(dir.Path))
        {
            Assert.Equal(0, s.Recovery.TruncatedBytes); // the half record was cut back at once
            Assert.Equal(5ul, s.LastIndex);
            Assert.Equal(new HardState(1, 1, 0), s.HardState);
            s.Save(null, Fixtures.Entries(6, 5, 1));
        }
        using (var s = Fixtures.Open(dir.Path))
            Assert.Equal(10ul, s.LastIndex);
    }
}
