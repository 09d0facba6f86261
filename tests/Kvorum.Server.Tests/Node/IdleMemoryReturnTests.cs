namespace Kvorum.Server.Tests.Node;

public sealed class IdleMemoryReturnTests
{
    private const long MiB = 1 << 20;

    private long _allocated;
    private long _committed;
    private long _afterCollection;
    private int _collections;

    private IdleMemoryReturn Check() => new(start: false, () => _allocated, () => _committed, () =>
    {
        _collections++;
        _committed = _afterCollection;
    });

    [Fact]
    public void A_quiet_member_whose_memory_has_more_than_doubled_is_collected_once_and_a_busy_one_never()
    {
        var check = Check();
        _committed = 100 * MiB;
        Assert.False(check.Check());

        // Grown past twice the smallest plus the slack, but busy: left alone.
        _committed = 2 * 100 * MiB + IdleMemoryReturn.SlackBytes + MiB;
        _allocated += IdleMemoryReturn.QuietBytes;
        Assert.False(check.Check());

        // Quiet: collected, and the memory is back; no second collection while it stays back.
        _afterCollection = 110 * MiB;
        Assert.True(check.Check());
        Assert.False(check.Check());
        Assert.Equal(1, _collections);
    }

    [Fact]
    public void While_the_memory_is_still_in_use_collections_are_retried_each_time_twice_as_late()
    {
        var check = Check();
        _committed = 100 * MiB;
        check.Check();
        _committed = _afterCollection = 1000 * MiB;
        var collectedAt = Enumerable.Range(0, 40).Where(_ => check.Check()).ToList();
        Assert.Equal([0, 2, 6, 14, 30], collectedAt);

        // The burst is over: the next retry frees it, and the retries stop.
        _afterCollection = 120 * MiB;
        while (!check.Check())
        {
        }
        Assert.Equal(120 * MiB, _committed);
        Assert.All(Enumerable.Range(0, 100), _ => Assert.False(check.Check()));
    }

    [Fact]
    public void A_closed_connection_ends_the_wait_between_retries()
    {
        var check = Check();
        _committed = 100 * MiB;
        check.Check();
        _committed = _afterCollection = 1000 * MiB;
        Assert.All(Enumerable.Range(0, 20), _ => check.Check());
        Assert.False(check.Check());
        check.ConnectionClosed();
        Assert.True(check.Check());
    }

    [Fact]
    public void Nothing_is_collected_before_the_runtime_has_reported_its_memory()
    {
        var check = Check();
        _committed = 0;
        Assert.False(check.Check());
        Assert.Equal(0, _collections);
    }
}
