using Kvorum.Server.Node;

namespace Kvorum.Server.Tests.Node;

/// <summary>When a member snapshots and makes a snapshot current (<see cref="SnapshotSchedule"/>), and what it says is in use.</summary>
public sealed class SnapshotScheduleTests
{
    private const ulong Count = 100;
    private const ulong CatchUp = 30;

    /// <summary>A schedule whose current snapshot, at <paramref name="index"/>, is <paramref name="bytes"/> long.</summary>
    private static SnapshotSchedule From(ulong index, long bytes)
    {
        var schedule = new SnapshotSchedule(Count, CatchUp);
        schedule.Restored(index, bytes);
        return schedule;
    }

    [Fact]
    public void A_snapshot_is_due_every_snapshot_count_entries_when_the_log_is_small_beside_it()
    {
        var schedule = From(index: 0, bytes: 0);
        Assert.False(schedule.IsDue(Count - 1));
        Assert.True(schedule.IsDue(Count));
    }

    [Fact]
    public void A_large_state_waits_until_the_bytes_applied_since_its_snapshot_reach_half_its_size()
    {
        var schedule = From(index: 1000, bytes: 10_000);
        for (var i = 0; i < 49; i++)
            schedule.Applied(100);
        Assert.False(schedule.IsDue(1000 + Count * 5)); // 4,900 bytes of log against 10,000 of snapshot
        schedule.Applied(100);
        Assert.True(schedule.IsDue(1000 + Count * 5));
        Assert.Equal(0.5, SnapshotSchedule.LogShare);
    }

    [Fact]
    public void In_use_is_the_snapshot_and_the_bytes_applied_since_across_a_snapshot_being_taken_and_made_current()
    {
        var schedule = From(index: 0, bytes: 1000);
        schedule.Applied(300);
        schedule.Applied(300);
        Assert.Equal(1600, schedule.BytesInUse);

        Assert.Equal(600, schedule.Started());
        schedule.Applied(50);
        Assert.Equal(1650, schedule.BytesInUse); // the pending bytes still count until the new snapshot is current

        schedule.Finished(Count, bytes: 1200);
        Assert.Equal(1250, schedule.BytesInUse);
        Assert.Equal(Count, schedule.LastIndex);
    }

    [Fact]
    public void One_snapshot_at_a_time_and_a_written_one_waits_for_the_catch_up_entries_before_it_is_made_current()
    {
        using var storage = new TemporaryStorage(entries: 10);
        var schedule = From(0, 0);
        schedule.Started();
        Assert.True(schedule.InFlight);
        Assert.False(schedule.IsDue(Count * 3));

        var written = new WrittenSnapshot(storage.Prepare(5), 64, TimeSpan.FromMilliseconds(3));
        schedule.Written(written);
        Assert.Null(schedule.TakeIfDue(5 + CatchUp - 1));
        Assert.False(schedule.IsDue(Count * 3));
        Assert.Same(written, schedule.TakeIfDue(5 + CatchUp));
        Assert.Null(schedule.TakeIfDue(5 + CatchUp)); // taken once
        schedule.Finished(5, 64);
        Assert.False(schedule.InFlight);
        Assert.Equal(5UL, schedule.LastIndex);
    }

    [Fact]
    public void A_written_snapshot_the_storage_would_not_take_is_let_go_at_once_and_the_current_one_stays()
    {
        var schedule = From(index: 50, bytes: 10);
        schedule.Started();
        var superseded = new WrittenSnapshot(null, 64, TimeSpan.Zero);
        schedule.Written(superseded);
        Assert.Same(superseded, schedule.TakeIfDue(0));
        schedule.Finished(null, 64);
        Assert.Equal(50UL, schedule.LastIndex);
        Assert.Equal(10, schedule.BytesInUse);
    }

    [Fact]
    public void After_a_failed_snapshot_the_next_waits_another_snapshot_count_entries_and_the_bytes_count_again()
    {
        var schedule = From(0, 0);
        schedule.Applied(500);
        var pending = schedule.Started();
        schedule.Applied(20);

        schedule.Failed(applied: 130, pending);

        Assert.False(schedule.InFlight);
        Assert.Equal(520, schedule.BytesInUse);
        Assert.False(schedule.IsDue(130 + Count - 1));
        Assert.True(schedule.IsDue(130 + Count));
    }

    [Fact]
    public void A_snapshot_made_current_never_moves_the_last_index_back()
    {
        var schedule = From(index: 200, bytes: 0);
        schedule.Started();
        schedule.Finished(150, 10);
        Assert.Equal(200UL, schedule.LastIndex);
    }

    [Fact]
    public void Only_the_loop_thread_changes_the_schedule() =>
        LoopThread.AssertOnlyTheLoopMay(owner => new SnapshotSchedule(Count, CatchUp, owner).Applied(1));
}
