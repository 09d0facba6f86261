using Kvorum.Lab.Checking;
using Xunit.Abstractions;

namespace Kvorum.Lab.Tests;

/// <summary>Hand-made histories, each small enough to check by eye. Times are abstract ticks.</summary>
public class LinearizabilityCheckerTests(ITestOutputHelper output)
{
    private CheckResult Check(HistoryScript script)
    {
        var result = script.Check();
        output.WriteLine(result.ToString());
        return result;
    }

    [Fact]
    public void Accepts_the_empty_history()
    {
        Assert.True(Check(new HistoryScript()).IsLinearizable);
    }

    [Fact]
    public void Accepts_a_sequential_history()
    {
        var result = Check(new HistoryScript()
            .Get(1, 0, 1, null)
            .Put(1, 2, 3, "a")
            .Get(2, 4, 5, "a")
            .Cas(2, 6, 7, "a", "b", succeeded: true)
            .Cas(1, 8, 9, "a", "c", succeeded: false)
            .Get(1, 10, 11, "b"));
        Assert.True(result.IsLinearizable);
        Assert.Equal(6, result.Keys.Single().Linearization.Count);
    }

    [Fact]
    public void Accepts_reads_on_either_side_of_a_concurrent_write()
    {
        // The put spans 0..10; a read inside it may see the old value, a later one inside it the new.
        Assert.True(Check(new HistoryScript()
            .Put(1, 0, 10, "a")
            .Get(2, 1, 2, null)
            .Get(2, 3, 4, "a")
            .Get(3, 5, 12, "a")).IsLinearizable);
    }

    [Fact]
    public void Accepts_concurrent_writes_in_the_order_a_later_read_implies()
    {
        // Recorded with "a" first, but only "b" then "a" explains the read.
        Assert.True(Check(new HistoryScript()
            .Put(1, 0, 10, "a")
            .Put(2, 0, 10, "b")
            .Get(3, 11, 12, "a")).IsLinearizable);
    }

    [Fact]
    public void Accepts_a_compare_and_set_racing_a_write()
    {
        Assert.True(Check(new HistoryScript()
            .Put(1, 0, 1, "a")
            .Put(2, 2, 10, "b")
            .Cas(3, 3, 9, "a", "c", succeeded: true)
            .Get(1, 11, 12, "b")).IsLinearizable);
    }

    [Fact]
    public void Accepts_an_indeterminate_write_that_took_effect_after_the_client_gave_up()
    {
        Assert.True(Check(new HistoryScript()
            .Put(1, 0, 1, "a")
            .Indeterminate(2, 2, KvInput.Put("k", "b"))
            .Get(3, 100, 101, "a")
            .Get(3, 200, 201, "b")).IsLinearizable);
    }

    [Fact]
    public void Accepts_an_indeterminate_write_that_never_took_effect()
    {
        Assert.True(Check(new HistoryScript()
            .Put(1, 0, 1, "a")
            .Indeterminate(2, 2, KvInput.Put("k", "b"))
            .Indeterminate(4, 3, KvInput.Cas("k", "a", "c"))
            .Get(3, 100, 101, "a")
            .Get(3, 200, 201, "a")).IsLinearizable);
    }

    [Fact]
    public void Accepts_an_indeterminate_compare_and_set_that_took_effect()
    {
        Assert.True(Check(new HistoryScript()
            .Put(1, 0, 1, "a")
            .Indeterminate(2, 2, KvInput.Cas("k", "a", "b"))
            .Cas(3, 50, 60, "b", "c", succeeded: true)
            .Get(3, 100, 101, "c")).IsLinearizable);
    }

    [Fact]
    public void Drops_failed_operations()
    {
        Assert.True(Check(new HistoryScript()
            .Put(1, 0, 1, "a")
            .Failed(2, 2, 3, KvInput.Put("k", "b"))
            .Get(3, 4, 5, "a")).IsLinearizable);
        Assert.False(Check(new HistoryScript()
            .Put(1, 0, 1, "a")
            .Failed(2, 2, 3, KvInput.Put("k", "b"))
            .Get(3, 4, 5, "b")).IsLinearizable);
    }

    [Fact]
    public void Checks_keys_independently()
    {
        var result = Check(new HistoryScript()
            .Put(1, 0, 1, "a", key: "x")
            .Put(1, 2, 3, "a", key: "y")
            .Get(2, 4, 5, "a", key: "x")
            .Get(2, 6, 7, null, key: "z")
            .Get(2, 8, 9, null, key: "y"));
        Assert.Equal(Verdict.NotLinearizable, result.Verdict);
        Assert.Equal(["x", "y", "z"], result.Keys.Select(k => k.Key));
        Assert.Equal("y", result.Violations.Single().Key);
    }

    [Fact]
    public void Rejects_a_stale_read()
    {
        // p1's write of "b" is acknowledged at 10; p2 starts reading at 11 and still sees "a".
        var result = Check(new HistoryScript()
            .Put(1, 0, 1, "a")
            .Put(1, 5, 10, "b")
            .Get(2, 11, 12, "a"));
        var violation = result.Violations.Single();
        Assert.Equal(2, violation.Stuck!.Id);
        Assert.Equal("\"b\"", violation.StateAfterPrefix);
    }

    [Fact]
    public void Rejects_a_value_that_goes_back_in_time()
    {
        // A read concurrent with the write saw it; a read that starts later cannot unsee it.
        Assert.False(Check(new HistoryScript()
            .Put(1, 0, 10, "a")
            .Get(2, 1, 3, "a")
            .Get(2, 4, 5, null)).IsLinearizable);
    }

    [Fact]
    public void Rejects_a_lost_acknowledged_write()
    {
        // "b" is acknowledged, then the cluster behaves as if it never happened: reads and a CAS see "a".
        var result = Check(new HistoryScript()
            .Put(1, 0, 1, "a")
            .Get(2, 2, 3, "a")
            .Put(1, 4, 6, "b")
            .Get(3, 7, 8, "b")
            .Get(2, 20, 21, "a")
            .Cas(3, 30, 31, "a", "c", succeeded: true)
            .Get(2, 40, 41, "c"));
        Assert.Equal(4, result.Violations.Single().Stuck!.Id);
    }

    [Fact]
    public void Rejects_a_read_of_a_value_never_written()
    {
        var result = Check(new HistoryScript()
            .Put(1, 0, 10, "a")
            .Put(2, 0, 10, "b")
            .Get(3, 5, 15, "zzz"));
        var violation = result.Violations.Single();
        Assert.Equal(2, violation.Stuck!.Id);
        Assert.Contains(violation.Candidates, op => op.Id == 2);
    }

    [Fact]
    public void Rejects_two_successful_swaps_from_the_same_value()
    {
        Assert.False(Check(new HistoryScript()
            .Put(1, 0, 1, "a")
            .Cas(2, 10, 20, "a", "b", succeeded: true)
            .Cas(3, 10, 20, "a", "c", succeeded: true)).IsLinearizable);
    }

    [Fact]
    public void Rejects_a_failed_compare_that_should_have_held()
    {
        Assert.False(Check(new HistoryScript()
            .Put(1, 0, 1, "a")
            .Cas(2, 2, 3, "a", "b", succeeded: false)).IsLinearizable);
    }

    [Fact]
    public void Rejects_an_indeterminate_write_seen_before_it_was_invoked()
    {
        Assert.False(Check(new HistoryScript()
            .Get(1, 0, 1, "b")
            .Indeterminate(2, 2, KvInput.Put("k", "b"))).IsLinearizable);
    }

    [Fact]
    public void Rejects_an_indeterminate_write_taking_effect_twice()
    {
        Assert.False(Check(new HistoryScript()
            .Put(1, 0, 1, "a")
            .Indeterminate(2, 2, KvInput.Put("k", "b"))
            .Get(3, 10, 11, "b")
            .Put(1, 12, 13, "c")
            .Get(3, 20, 21, "b")).IsLinearizable);
    }

    [Fact]
    public void Reports_the_key_the_prefix_and_the_window()
    {
        var result = Check(new HistoryScript { Key = "users/7" }
            .Put(1, 0, 1, "a")
            .Put(1, 5, 10, "b")
            .Get(2, 6, 9, "b")
            .Get(3, 11, 12, "a"));
        var text = result.ToString();
        Assert.Contains("NOT LINEARIZABLE", text, StringComparison.Ordinal);
        Assert.Contains("key users/7", text, StringComparison.Ordinal);
        Assert.Contains("longest linearizable prefix: 3 operations, leaving the key at \"b\"", text, StringComparison.Ordinal);
        Assert.Contains("#3 p3 [11..12] get(users/7) -> \"a\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Answers_unknown_when_the_budget_is_spent()
    {
        // Many concurrent writes with no read to pin an order: every subset and order is explored.
        var script = new HistoryScript();
        for (var i = 0; i < 40; i++)
            script.Put(i, 0, 100, $"v{i}");
        script.Get(99, 101, 102, "never");
        var result = Linearizability.Check(script.Build(), CheckOptions.Default with { Timeout = TimeSpan.FromMilliseconds(200) });
        output.WriteLine(result.ToString());
        Assert.Equal(Verdict.Unknown, result.Verdict);
    }

    [Fact]
    public void Answers_unknown_when_cancelled()
    {
        var script = new HistoryScript();
        for (var i = 0; i < 40; i++)
            script.Put(i, 0, 100, $"v{i}");
        script.Get(99, 101, 102, "never");
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Equal(Verdict.Unknown, Linearizability.Check(script.Build(), cancellation: cancelled.Token).Verdict);
    }
}
