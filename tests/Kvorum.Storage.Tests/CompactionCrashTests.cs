using Kvorum.Raft;

namespace Kvorum.Storage.Tests;

/// <summary>
/// Crash safety of compaction: a snapshot is made durable first, then recorded in the WAL, then old segments
/// are deleted oldest first, then old snapshot files. These tests rebuild the directory as a crash would leave
/// it between any two of those steps and check that it opens to the log before or after the snapshot.
/// </summary>
public class CompactionCrashTests
{
    private const long SegmentSize = 1024;

    /// <summary>A log over many segments whose base indexes are not monotonic (a conflict truncation).</summary>
    private static void Build(IRaftLogStore s)
    {
        s.Save(new HardState(1, 1, 0), Fixtures.Entries(1, 150, 1));
        s.Save(new HardState(2, 2, 40), Fixtures.Entries(60, 80, 2));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Every_intermediate_state_of_a_snapshot_opens_to_the_log_before_or_after_it(bool install)
    {
        using var live = new TempDir();
        using var before = new TempDir();
        var modelBefore = new MemoryRaftStorage();
        var modelAfter = new MemoryRaftStorage();
        Build(modelBefore);
        Build(modelAfter);
        using (var s = Fixtures.Open(live.Path, SegmentSize))
        {
            Build(s);
            s.CreateSnapshot(30, ConfState.OfVoters(1), new byte[] { 1 });
        }
        modelBefore.CreateSnapshot(30, ConfState.OfVoters(1), new byte[] { 1 });
        modelAfter.CreateSnapshot(30, ConfState.OfVoters(1), new byte[] { 1 });
        TornWriteTests.CopyDir(live.Path, before.Path);

        var conf = ConfState.OfVoters(1, 2);
        byte[] data = [7, 7, 7];
        using var mid = new TempDir();
        var options = new StorageOptions
        {
            DataDirectory = live.Path,
            SegmentSize = SegmentSize,
            BeforeCompaction = () => TornWriteTests.CopyDir(live.Path, mid.Path),
        };
        using (var s = DiskRaftStorage.Open(options))
        {
            if (install)
                s.ApplySnapshot(new SnapshotMetadata(100, 2, conf), data);
            else
                s.CreateSnapshot(100, conf, data);
        }
        if (install)
            modelAfter.ApplySnapshot(new SnapshotMetadata(100, 2, conf), data);
        else
            modelAfter.CreateSnapshot(100, conf, data);

        var liveSegments = live.Segments().Select(Path.GetFileName).ToHashSet();
        // What the directory held when the snapshot's WAL record had become durable, before any deletion.
        var deleted = mid.Segments().Where(p => !liveSegments.Contains(Path.GetFileName(p))).ToList();
        Assert.NotEmpty(deleted);
        var newSnapshot = Directory.GetFiles(Path.Combine(live.Path, "snap")).Single();
        var oldSnapshot = Directory.GetFiles(Path.Combine(before.Path, "snap")).Single();
        Assert.NotEqual(Path.GetFileName(newSnapshot), Path.GetFileName(oldSnapshot));
        Assert.Equal(2, Directory.GetFiles(Path.Combine(mid.Path, "snap")).Length);

        // Crash after the snapshot file became durable, before its WAL record did: the file is an orphan.
        using (var crash = new TempDir())
        {
            TornWriteTests.CopyDir(before.Path, crash.Path);
            File.Copy(newSnapshot, Path.Combine(crash.Path, "snap", Path.GetFileName(newSnapshot)));
            using var s = Fixtures.Open(crash.Path, SegmentSize);
            Fixtures.AssertSameLog(modelBefore, s);
            Assert.Single(Directory.GetFiles(Path.Combine(crash.Path, "snap")));
        }

        // Crash after the WAL record, with the oldest k of the obsolete segments deleted and the old snapshot file still there.
        for (var k = 0; k <= deleted.Count; k++)
        {
            using var crash = new TempDir();
            TornWriteTests.CopyDir(live.Path, crash.Path);
            foreach (var segment in deleted.Skip(k))
                File.Copy(segment, Path.Combine(crash.Wal, Path.GetFileName(segment)));
            File.Copy(oldSnapshot, Path.Combine(crash.Path, "snap", Path.GetFileName(oldSnapshot)));
            using var s = Fixtures.Open(crash.Path, SegmentSize);
            Fixtures.AssertSameLog(modelAfter, s);
            Assert.Single(Directory.GetFiles(Path.Combine(crash.Path, "snap")));
        }
    }
}
