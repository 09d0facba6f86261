using Kvorum.Raft;
using Kvorum.Server.Node;

namespace Kvorum.Server.Tests.Node;

/// <summary>The leader's own writes that run while its loop goes on (<see cref="LeaderWrites"/>), with a loop the test runs by hand.</summary>
public sealed class LeaderWritesTests
{
    private readonly Queue<Action> _posted = new();
    private readonly List<(ulong Index, ulong Term)> _persisted = [];
    private readonly List<int> _durable = [];

    private LeaderWrites Writes(LoopOwner? owner = null) =>
        new(_posted.Enqueue, (index, term) => _persisted.Add((index, term)), (_, entries) => _durable.Add(entries), owner);

    private static Entry[] Entries(ulong from, ulong to, ulong term) =>
        [.. Enumerable.Range((int)from, (int)(to - from + 1)).Select(i => new Entry((ulong)i, term, EntryType.Normal, new byte[] { 1 }))];

    private void RunPosted()
    {
        while (_posted.TryDequeue(out var work))
            work();
    }

    [Fact]
    public void While_a_write_runs_no_other_starts_and_once_durable_it_is_reported_from_the_loop_at_its_last_entry()
    {
        var writes = Writes();
        var disk = new TaskCompletionSource();
        Assert.True(writes.MayStartAnother);

        writes.Started(disk.Task, Entries(5, 7, term: 3));
        Assert.False(writes.MayStartAnother);
        Assert.Equal(1, LeaderWrites.MaxInFlight);

        disk.SetResult();
        Assert.Empty(_persisted); // not on the disk's thread: posted to the loop
        RunPosted();
        Assert.Equal([(7UL, 3UL)], _persisted);
        Assert.Equal([3], _durable);
        Assert.True(writes.MayStartAnother);
    }

    [Fact]
    public void A_commit_index_alone_written_at_once_has_nothing_to_report_but_one_still_on_its_way_holds_the_next_write()
    {
        var writes = Writes();
        writes.Started(Task.CompletedTask, []);
        Assert.True(writes.MayStartAnother);
        Assert.Empty(_posted);

        var disk = new TaskCompletionSource();
        writes.Started(disk.Task, []);
        Assert.False(writes.MayStartAnother);
        disk.SetResult();
        RunPosted();
        Assert.Empty(_persisted);
        Assert.Equal([0], _durable);
        Assert.True(writes.MayStartAnother);
    }

    [Fact]
    public void A_failed_write_stops_the_loop_with_its_error()
    {
        var writes = Writes();
        writes.Started(Task.FromException(new IOException("disk gone")), Entries(1, 1, 1));
        var error = Assert.Throws<IOException>(RunPosted);
        Assert.Equal("disk gone", error.Message);
        Assert.Empty(_persisted);
    }

    [Fact]
    public void Only_the_loop_thread_starts_writes() =>
        LoopThread.AssertOnlyTheLoopMay(owner => Writes(owner).Started(new TaskCompletionSource().Task, Entries(1, 1, 1)));
}
