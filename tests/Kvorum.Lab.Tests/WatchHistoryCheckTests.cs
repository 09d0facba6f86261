using Kvorum.Lab.Checking;

namespace Kvorum.Lab.Tests;

public class WatchHistoryCheckTests
{
    // A clean history on key "k": put a (r2), read a, put b (r3), cas b -> c (r4), read c; each after the last.
    private static readonly Operation[] Clean =
    [
        Operation.Ok(1, 0, KvInput.Put("k", "a"), 0, 10, KvOutput.Written),
        Operation.Ok(2, 1, KvInput.Get("k"), 11, 20, KvOutput.Read("a")),
        Operation.Ok(3, 0, KvInput.Put("k", "b"), 21, 30, KvOutput.Written),
        Operation.Ok(4, 1, KvInput.Cas("k", "b", "c"), 31, 40, KvOutput.Swapped(true)),
        Operation.Ok(5, 0, KvInput.Get("k"), 41, 50, KvOutput.Read("c")),
    ];

    private static readonly WatchedEvent[] CleanEvents = [Put(2, "a"), Put(3, "b"), Put(4, "c")];

    private static WatchedEvent Put(long revision, string value, string key = "k") => new(revision, key, false, value);

    private static WatcherLog Watcher(int id, long start, params WatchedEvent[] events)
    {
        var log = new WatcherLog(id) { StartRevision = start };
        foreach (var e in events)
            log.Add(e);
        return log;
    }

    [Fact]
    public void Watchers_that_saw_the_clients_history_from_different_starts_pass_including_one_from_the_empty_store_at_revision_1()
    {
        var result = WatchHistoryCheck.Check(Clean, [Watcher(1, 1, CleanEvents), Watcher(2, 3, CleanEvents[1..]), Watcher(3, 5)], 4);

        Assert.True(result.Passed, result.Describe());
        Assert.Equal(3, result.Revisions);
        Assert.Equal(5, result.Events);
        Assert.Equal(5, result.OrderChecked);
        Assert.Contains("gap-free, duplicate-free, in-order", result.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_gap_a_duplicate_and_a_reordering_are_each_named()
    {
        var gap = WatchHistoryCheck.Check(Clean, [Watcher(1, 2, CleanEvents), Watcher(2, 2, Put(2, "a"), Put(4, "c"))], 4);
        Assert.Contains("watcher 2 missed r3: it saw r4 put(k, \"c\") after r2", gap.Problems);

        var duplicate = WatchHistoryCheck.Check(Clean, [Watcher(1, 2, Put(2, "a"), Put(3, "b"), Put(3, "b"), Put(4, "c"))], 4);
        Assert.Contains("watcher 1 saw r3 put(k, \"b\") again or out of order (expected r4 next)", duplicate.Problems);

        var reordered = WatchHistoryCheck.Check(Clean, [Watcher(1, 2, Put(3, "b"), Put(2, "a"), Put(4, "c"))], 4);
        Assert.False(reordered.Passed);
        Assert.Contains(reordered.Problems, p => p.StartsWith("watcher 1 missed r2", StringComparison.Ordinal));
    }

    [Fact]
    public void A_watcher_short_of_the_final_revision_or_stopped_fails()
    {
        var result = WatchHistoryCheck.Check(Clean, [Watcher(1, 2, CleanEvents[..2])], 4);
        Assert.Contains("watcher 1 ended at r3, short of the final revision r4", result.Problems);

        var stopped = Watcher(2, 2, CleanEvents);
        stopped.Failure = "compacted at r3";
        Assert.Contains("watcher 2 stopped early: compacted at r3", WatchHistoryCheck.Check(Clean, [stopped], 4).Problems);
    }

    [Fact]
    public void Watchers_that_disagree_at_a_revision_fail()
    {
        var result = WatchHistoryCheck.Check(Clean, [Watcher(1, 2, CleanEvents), Watcher(2, 2, Put(2, "a"), Put(3, "c"), Put(4, "c"))], 4);

        Assert.Contains(result.Problems, p => p.StartsWith("watchers disagree at r3", StringComparison.Ordinal));
    }

    [Fact]
    public void A_lost_acknowledged_write_and_a_write_nobody_made_fail()
    {
        // b was acknowledged but the watchers never saw it; in its place, a value no client wrote.
        var result = WatchHistoryCheck.Check(Clean, [Watcher(1, 2, Put(2, "a"), Put(3, "x"), Put(4, "c"))], 4);

        Assert.Contains("r3 put(k, \"x\") was written by no operation of the history", result.Problems);
        Assert.Contains(result.Problems, p => p.StartsWith("the acknowledged #3 p0", StringComparison.Ordinal) && p.EndsWith("is in no watcher's history", StringComparison.Ordinal));
    }

    [Fact]
    public void A_failed_write_that_appears_fails_and_an_indeterminate_one_may_appear_once()
    {
        Operation[] history = [.. Clean, Operation.Failed(6, 2, KvInput.Put("k", "f"), 51, 60), Operation.Indeterminate(7, 3, KvInput.Put("k", "i"), 51)];

        var failedAppears = WatchHistoryCheck.Check(history, [Watcher(1, 2, [.. CleanEvents, Put(5, "f")])], 5);
        Assert.Contains(failedAppears.Problems, p => p.Contains("did not take effect", StringComparison.Ordinal));

        var indeterminateAppears = WatchHistoryCheck.Check(history, [Watcher(1, 2, [.. CleanEvents, Put(5, "i")])], 5);
        Assert.True(indeterminateAppears.Passed, indeterminateAppears.Describe());

        var twice = WatchHistoryCheck.Check(history, [Watcher(1, 2, [.. CleanEvents, Put(5, "i"), Put(6, "i")])], 6);
        Assert.Contains("r6 put(k, \"i\") is the second write of \"i\" (first at r5)", twice.Problems);
    }

    [Fact]
    public void Revisions_against_real_time_order_fail()
    {
        // The watchers put b before a, but a completed before b was invoked.
        var writes = WatchHistoryCheck.Check(Clean, [Watcher(1, 2, Put(2, "b"), Put(3, "a"), Put(4, "c"))], 4);
        Assert.Contains(writes.Problems, p => p.Contains("completed before", StringComparison.Ordinal) && p.Contains("is higher than", StringComparison.Ordinal));

        // A read that began after c was acknowledged returned b (stale).
        Operation[] stale = [.. Clean, Operation.Ok(6, 2, KvInput.Get("k"), 45, 55, KvOutput.Read("b"))];
        var staleRead = WatchHistoryCheck.Check(stale, [Watcher(1, 2, CleanEvents)], 4);
        Assert.Contains(staleRead.Problems, p => p.Contains("a write at a higher revision had completed before the read began", StringComparison.Ordinal));

        // A read that completed before b was invoked returned b (from the future).
        Operation[] future = [.. Clean, Operation.Ok(6, 2, KvInput.Get("k"), 5, 15, KvOutput.Read("b"))];
        var futureRead = WatchHistoryCheck.Check(future, [Watcher(1, 2, CleanEvents)], 4);
        Assert.Contains(futureRead.Problems, p => p.Contains("was invoked only after the read completed", StringComparison.Ordinal));

        // Reading nothing after a completed write is stale too.
        Operation[] absent = [.. Clean, Operation.Ok(6, 2, KvInput.Get("k"), 45, 55, KvOutput.Read(null))];
        Assert.False(WatchHistoryCheck.Check(absent, [Watcher(1, 2, CleanEvents)], 4).Passed);
    }

    [Fact]
    public void A_revision_no_watcher_saw_fails()
    {
        var result = WatchHistoryCheck.Check(Clean, [Watcher(1, 4, Put(4, "c"))], 4);

        Assert.Contains("no watcher saw r2", result.Problems);
    }
}
