using Kvorum.Raft;

namespace Kvorum.Storage.Tests;

/// <summary>
/// A snapshot in two steps: the file written on a background thread while the log keeps changing
/// (<see cref="DiskRaftStorage.PrepareSnapshot"/>), then made current between core calls
/// (<see cref="DiskRaftStorage.CommitSnapshot"/>) — or given up when the log moved past it.
/// </summary>
public class PreparedSnapshotTests
{
    private static readonly ConfState Conf = ConfState.OfVoters(1, 2, 3);

    private static string[] SnapshotFiles(TempDir dir) => Directory.GetFiles(Path.Combine(dir.Path, "snap"));

    [Fact]
    public async Task A_snapshot_prepared_while_appends_continue_commits_and_survives_reopen()
    {
        using var dir = new TempDir();
        var data = new byte[2_000_000];
        new Random(3).NextBytes(data);
        using (var s = Fixtures.Open(dir.Path, segmentSize: 4096))
        {
            s.Save(new HardState(1, 1, 100), Fixtures.Entries(1, 100, 1));
            var before = s.SegmentCount;
            var preparing = Task.Run(() => s.PrepareSnapshot(80, Conf, data));
            // The log keeps taking appends while the file is written.
            for (ulong i = 101; i <= 300; i++)
                s.Save(new HardState(1, 1, i - 1), Fixtures.Entries(i, 1, 1));
            var prepared = await preparing;
            Assert.NotNull(prepared);
            Assert.Equal(0ul, s.Snapshot.Index); // written, not yet current
            Assert.Equal(1ul, s.FirstIndex);

            Assert.True(s.CommitSnapshot(prepared));
            Assert.Equal(80ul, s.Snapshot.Index);
            Assert.Equal(81ul, s.FirstIndex);
            Assert.Equal(300ul, s.LastIndex);
            Assert.True(s.SegmentCount < before + 200 / 4, "no segment was compacted");
            Assert.Equal(data, s.SnapshotData.ToArray());
            Assert.Single(SnapshotFiles(dir));
        }
        using (var s = Fixtures.Open(dir.Path, segmentSize: 4096))
        {
            Assert.Equal(80ul, s.Snapshot.Index);
            Assert.Equal(Conf, s.Snapshot.ConfState);
            Assert.Equal(300ul, s.LastIndex);
            Assert.Equal(data, s.SnapshotData.ToArray());
        }
    }

    [Fact]
    public void A_snapshot_installed_meanwhile_supersedes_the_prepared_one_which_survives_until_given_up()
    {
        using var dir = new TempDir();
        using var s = Fixtures.Open(dir.Path, segmentSize: 2048);
        s.Save(new HardState(1, 1, 50), Fixtures.Entries(1, 60, 1));
        var prepared = s.PrepareSnapshot(50, Conf, new byte[] { 1, 2, 3 });
        Assert.NotNull(prepared);

        // A leader's newer snapshot arrives; its compaction must leave the prepared file alone.
        s.ApplySnapshot(new SnapshotMetadata(200, 2, Conf), new byte[] { 9 });
        Assert.Equal(2, SnapshotFiles(dir).Length);

        Assert.False(s.CommitSnapshot(prepared));
        Assert.Equal(200ul, s.Snapshot.Index);
        Assert.Equal(new byte[] { 9 }, s.SnapshotData.ToArray());
        Assert.Single(SnapshotFiles(dir));
    }

    [Fact]
    public void A_snapshot_whose_entry_was_replaced_by_another_term_is_given_up()
    {
        using var dir = new TempDir();
        using var s = Fixtures.Open(dir.Path);
        s.Save(new HardState(1, 1, 0), Fixtures.Entries(1, 10, 1));
        var prepared = s.PrepareSnapshot(8, Conf, new byte[] { 1 });
        Assert.NotNull(prepared);
        s.Save(new HardState(2, 2, 0), Fixtures.Entries(7, 3, 2)); // a conflict truncation from 7
        Assert.False(s.CommitSnapshot(prepared));
        Assert.Equal(0ul, s.Snapshot.Index);
        Assert.Empty(SnapshotFiles(dir));
        // At or below the current snapshot: nothing to prepare.
        s.CreateSnapshot(5, Conf, new byte[] { 2 });
        Assert.Null(s.PrepareSnapshot(4, Conf, new byte[] { 3 }));
    }

    [Fact]
    public void A_prepared_snapshot_never_committed_is_deleted_at_the_next_open()
    {
        using var dir = new TempDir();
        using (var s = Fixtures.Open(dir.Path))
        {
            s.Save(new HardState(1, 1, 5), Fixtures.Entries(1, 5, 1));
            Assert.NotNull(s.PrepareSnapshot(5, Conf, new byte[] { 1 }));
            Assert.Single(SnapshotFiles(dir));
        }
        using (var s = Fixtures.Open(dir.Path))
        {
            Assert.Equal(0ul, s.Snapshot.Index);
            Assert.Equal(5ul, s.LastIndex);
            Assert.Empty(SnapshotFiles(dir));
        }
    }
}
