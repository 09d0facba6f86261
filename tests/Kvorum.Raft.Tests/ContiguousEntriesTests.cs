namespace Kvorum.Raft.Tests;

/// <summary>The slicing that the in-memory and the on-disk log share: ranges, size limits, truncation, compaction.</summary>
public class ContiguousEntriesTests
{
    private static ContiguousEntries Log(ulong start, int count, int payload = 10)
    {
        var log = new ContiguousEntries(start);
        for (var i = 0; i < count; i++)
            log.Append(new Entry(start + (ulong)i, 1, new byte[payload]));
        return log;
    }

    private static List<ulong> Indexes(ContiguousEntries log, ulong lo, ulong hi, long maxBytes)
    {
        var into = new List<Entry>();
        log.GetEntries(lo, hi, maxBytes, into);
        return into.ConvertAll(e => e.Index);
    }

    [Fact]
    public void A_range_stops_once_past_the_size_limit_but_holds_at_least_one_entry()
    {
        var log = Log(start: 5, count: 4);
        var size = new Entry(1, 1, new byte[10]).Size;

        Assert.Equal([5UL, 6, 7, 8], Indexes(log, 5, 9, long.MaxValue));
        Assert.Equal([6UL, 7], Indexes(log, 6, 9, 2 * size));
        Assert.Equal([6UL], Indexes(log, 6, 9, 0));
        Assert.Empty(Indexes(log, 7, 7, long.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => Indexes(log, 4, 6, long.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => Indexes(log, 5, 10, long.MaxValue));
        Assert.Throws<ArgumentOutOfRangeException>(() => Indexes(log, 7, 6, long.MaxValue));
    }

    [Fact]
    public void An_append_replaces_the_suffix_from_its_index_and_refuses_a_gap()
    {
        var log = Log(start: 1, count: 5);
        log.Append(new Entry(3, 2, new byte[1]));

        Assert.Equal(3UL, log.Last);
        Assert.True(log.TryGetTerm(3, out var term));
        Assert.Equal(2UL, term);
        Assert.False(log.TryGetTerm(4, out _));
        Assert.Throws<InvalidOperationException>(() => log.Append(new Entry(5, 2, new byte[1])));
    }

    [Fact]
    public void Compaction_drops_a_prefix_and_a_reset_empties_the_log_at_a_new_start()
    {
        var log = Log(start: 1, count: 5);
        log.DropThrough(3);

        Assert.Equal((4UL, 5UL, 2), (log.Start, log.Last, log.Count));
        Assert.False(log.TryGetTerm(3, out _));
        Assert.Equal(4UL, log[4].Index);
        log.DropThrough(2);
        Assert.Equal(4UL, log.Start);

        log.Reset(10);
        Assert.Equal((10UL, 9UL, 0), (log.Start, log.Last, log.Count));
        log.Append(new Entry(10, 3, new byte[1]));
        Assert.Equal(10UL, log.Last);
    }

    [Fact]
    public void An_append_before_the_start_starts_the_log_there()
    {
        var log = Log(start: 8, count: 2);
        log.Append(new Entry(5, 2, new byte[1]));

        Assert.Equal((5UL, 5UL), (log.Start, log.Last));
    }
}
