using Kvorum.Lab.Checking;

namespace Kvorum.Lab.Tests;

public class WatchHistoryCheckTests
{
    // A clean history on key "k": put a (r1), read a, put b (r2), cas b -> c (r3), read c; each after the last.
    private static readonly Operation[] Clean =
    [
        Operation.Ok(1, 0, KvInput.Put("k", "a"), 0, 10, KvOutput.Written),
        Operation.Ok(2, 1, KvInput.Get("k"), 11, 20, KvOutput.Read("a")),
        Operation.Ok(3, 0, KvInput.Put("k", "b"), 21, 30, KvOutput.Written),
        Operation.Ok(4, 1, KvInput.Cas("k", "b", "c"), 31, 40, KvOutput.Swapped(true)),
        Operation.Ok(5, 0, KvInput.Get("k"), 41, 50, KvOutput.Read("c")),
    ];

    private static readonly WatchedEvent[] CleanEvents = [Put(1, "a"), Put(2, "b"), Put(3, "c")];

    private static WatchedEvent Put(long revision, string value, string key = "k") => new(revision, key, false, value);

    private static WatcherLog Watcher(int id, long start, params WatchedEvent[] events)
    {
        var log = new WatcherLog(id) { StartRevision = start };
        foreach (var e in events)
            log.Add(e);
        return log;
    }

    [Fact]
    public void Watchers_that_saw_the_clients_history_from_different_starts_pass()
    {
        var result = WatchHistoryCheck.Check(Clean, [Watcher(1, 1, CleanEvents), Watcher(2, 2, CleanEvents[1..]), Watcher(3, 4)], 3);

        Assert.True(result.Passed, result.Describe());
        Assert.Equal(3, result.Revisions);
        Assert.Equal(5, result.Events);
        Assert.Equal(5, result.OrderChecked);
        Assert.Contains("gap-free, duplicate-free, in-order", result.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_gap_a_duplicate_and_a_reordering_are_each_named()
    {
        var gap = WatchHistoryCheck.Check(Clean, [Watcher(1, 1, CleanEvents), Watcher(2, 1, Put(1, "a"), Put(3, "c"))], 3);
        Assert.Contains("watcher 2 missed r2: it saw r3 put(k, \"c\") after r1", gap.Problems);

        var duplicate = WatchHistoryCheck.Check(Clean, [Watcher(1, 1, Put(1, "a"), Put(2, "b"), Put(2, "b"), Put(3, "c"))], 3);
        Assert.Contains("watcher 1 saw r2 put(k, \"b\") again or out of order (expected r3 next)", duplicate.Problems);

        var reordered = WatchHistoryCheck.Check(Clean, [Watcher(1, 1, Put(2, "b"), Put(1, "a"), Put(3, "c"))], 3);
        Assert.False(reordered.Passed);
        Assert.Contains(reordered.Problems, p => p.StartsWith("watcher 1 missed r1", StringComparison.Ordinal));
    }

    [Fact]
    public void A_watcher_short_of_the_final_revision_or_stopped_fails()
    {
        var result = WatchHistoryCheck.Check(Clean, [Watcher(1, 1, CleanEvents[..2])], 3);
        Assert.Contains("watcher 1 ended at r2, short of the final revision r3", result.Problems);

        var stopped = Watcher(2, 1, CleanEvents);
        stopped.Failure = "compacted at r2";
        Assert.Contains("watcher 2 stopped early: compacted at r2", WatchHistoryCheck.Check(Clean, [stopped], 3).Problems);
    }

    [Fact]
    public void Watchers_that_disagree_at_a_revision_fail()
    {
        var result = WatchHistoryCheck.Check(Clean, [Watcher(1, 1, CleanEvents), Watcher(2, 1, Put(1, "a"), Put(2, "c"), Put(3, "c"))], 3);

        Assert.Contains(result.Problems, p => p.StartsWith("watchers disagree at r2", StringComparison.Ordinal));
    }

    [Fact]
    public void A_lost_acknowledged_write_and_a_write_nobody_made_fail()
    {
        // b was acknowledged but the watchers never saw it; in its place, a value no client wrote.
        var result = WatchHistoryCheck.Check(Clean, [Watcher(1, 1, Put(1, "a"), Put(2, "x"), Put(3, "c"))], 3);

        Assert.Contains("r2 put(k, \"x\") was written by no operation of the history", result.Problems);
        Assert.Contains(result.Problems, p => p.StartsWith("the acknowledged #3 p0", StringComparison.Ordinal) && p.EndsWith("is in no watcher's history", StringComparison.Ordinal));
    }

    [Fact]
    public void A_failed_write_that_appears_fails_and_an_indeterminate_one_may_appear_once()
    {
        Operation[] history = [.. Clean, Operation.Failed(6, 2, KvInput.Put("k", "f"), 51, 60), Operation.Indeterminate(7, 3, KvInput.Put("k", "i"), 51)];

        var failedAppears = WatchHistoryCheck.Check(history, [Watcher(1, 1, [.. CleanEvents, Put(4, "f")])], 4);
        Assert.Contains(failedAppears.Problems, p => p.Contains("did not take effect", StringComparison.Ordinal));

        var indeterminateAppears = WatchHistoryCheck.Check(history, [Watcher(1, 1, [.. CleanEvents, Put(4, "i")])], 4);
        Assert.True(indeterminateAppears.Passed, indeterminateAppears.Describe());

        var twice = WatchHistoryCheck.Check(history, [Watcher(1, 1, [.. CleanEvents, Put(4, "i"), Put(5, "i")])], 5);
        Assert.Contains("r5 put(k, \"i\") is the second write of \"i\" (first at r4)", twice.Problems);
    }

    [Fact]
    public void Revisions_against_real_time_order_fail()
    {
        // The watchers put b before a, but a completed before b was invoked.
        var writes = WatchHistoryCheck.Check(Clean, [Watcher(1, 1, Put(1, "b"), Put(2, "a"), Put(3, "c"))], 3);
        Assert.Contains(writes.Problems, p => p.Contains("completed before", StringComparison.Ordinal) && p.Contains("is higher than", StringComparison.Ordinal));

        // A read that began after c was acknowledged returned b (stale).
        Operation[] stale = [.. Clean, Operation.Ok(6, 2, KvInput.Get("k"), 45, 55, KvOutput.Read("b"))];
        var staleRead = WatchHistoryCheck.Check(stale, [Watcher(1, 1, CleanEvents)], 3);
        Assert.Contains(staleRead.Problems, p => p.Contains("a write at a higher revision had completed before the read began", StringComparison.Ordinal));

        // A read that completed before b was invoked returned b (from the future).
        Operation[] future = [.. Clean, Operation.Ok(6, 2, KvInput.Get("k"), 5, 15, KvOutput.Read("b"))];
        var futureRead = WatchHistoryCheck.Check(future, [Watcher(1, 1, CleanEvents)], 3);
        Assert.Contains(futureRead.Problems, p => p.Contains("was invoked only after the read completed", StringComparison.Ordinal));

        // Reading nothing after a completed write is stale too.
        Operation[] absent = [.. Clean, Operation.Ok(6, 2, KvInput.Get("k"), 45, 55, KvOutput.Read(null))];
        Assert.False(WatchHistoryCheck.Check(absent, [Watcher(1, 1, CleanEvents)], 3).Passed);
    }

    [Fact]
    public void A_revision_no_watcher_saw_fails()
    {
        var result = WatchHistoryCheck.Check(Clean, [Watcher(1, 3, Put(3, "c"))], 3);

        Assert.Contains("no watcher saw r1", result.Problems);
    }
}
