namespace Kvorum.Server.Tests.Node;

public sealed class IdleMemoryReturnTests
{
    private const long MiB = 1 << 20;

    private long _allocated;
    private long _committed;
    private long _afterCollection;
    private int _collections;
    private long _answersReleased;

    private IdleMemoryReturn Check() => new(start: false, () => _allocated, () => _committed, () =>
    {
        _collections++;
        _committed = _afterCollection;
    }, () => _answersReleased);

    [Fact]
    public void A_quiet_member_grown_by_more_than_the_slack_is_collected_once_and_a_busy_one_never()
    {
        var check = Check();
        _committed = 100 * MiB;
        Assert.False(check.Check());

        // Grown past the smallest plus the slack, but busy: left alone.
        _committed = 100 * MiB + IdleMemoryReturn.SlackBytes + MiB;
        _allocated += IdleMemoryReturn.QuietBytes;
        Assert.False(check.Check());

        // Quiet: collected, and the memory is back; no second collection while it stays back.
        _afterCollection = 110 * MiB;
        Assert.True(check.Check());
        Assert.False(check.Check());
        Assert.Equal(1, _collections);
    }

    [Fact]
    public void Memory_held_a_little_above_the_smallest_is_collected_too()
    {
        // The case the first version missed: 328 MiB held by a member whose smallest was 107 MiB (its mark was 343).
        var check = Check();
        _committed = 107 * MiB;
        check.Check();
        _committed = 328 * MiB;
        _afterCollection = 110 * MiB;
        Assert.True(check.Check());
        Assert.Equal(110 * MiB, _committed);
    }

    [Fact]
    public void Memory_found_in_use_is_collected_again_only_after_more_growth_or_a_closed_connection()
    {
        var check = Check();
        _committed = 100 * MiB;
        check.Check();
        // Held by clients that never read: the collection frees nothing, and its result is the new mark.
        _committed = _afterCollection = 400 * MiB;
        Assert.True(check.Check());
        Assert.All(Enumerable.Range(0, 100), _ => Assert.False(check.Check()));

        // Grown again by more than the slack: collected once more.
        _committed = _afterCollection = 400 * MiB + IdleMemoryReturn.SlackBytes + MiB;
        Assert.True(check.Check());
        Assert.False(check.Check());

        // The clients go: what they held is garbage, with no growth since the last collection.
        check.ConnectionClosed();
        _afterCollection = 105 * MiB;
        Assert.True(check.Check());
        Assert.Equal(105 * MiB, _committed);
        Assert.Equal(3, _collections);
    }

    [Fact]
    public void Collections_that_closed_connections_start_and_that_free_little_are_retried_each_time_twice_as_late()
    {
        var check = Check();
        _committed = 100 * MiB;
        check.Check();
        // A large member whose data is in use, and whose clients come and go all the time.
        _committed = _afterCollection = 1000 * MiB;
        Assert.True(check.Check());
        var collectedAt = Enumerable.Range(0, 40).Where(_ =>
        {
            check.ConnectionClosed();
            return check.Check();
        }).ToList();
        Assert.Equal([0, 2, 6, 14, 30], collectedAt);

        // One that frees the slack or more was worth it: the next closed connection may collect at once.
        while (true)
        {
            check.ConnectionClosed();
            _afterCollection = 500 * MiB;
            if (check.Check())
                break;
        }
        _committed = _afterCollection = 520 * MiB;
        check.ConnectionClosed();
        Assert.True(check.Check());
    }

    [Fact]
    public void Answers_given_back_are_collected_at_the_next_quiet_look_whatever_the_back_off_of_closed_connections()
    {
        // The fresh-clone failure: collections started by closed connections while unread answers were still held
        // freed little and built up a back-off; then the readers went, and their 300 MiB stayed for over 30 s.
        var check = Check();
        _committed = 100 * MiB;
        check.Check();
        _committed = _afterCollection = 400 * MiB;
        Assert.True(check.Check());
        for (var i = 0; i < 8; i++)
        {
            check.ConnectionClosed();
            check.Check();
        }
        var before = _collections;

        // Answers given back, but fewer bytes than the slack: no collection for them alone.
        _answersReleased += IdleMemoryReturn.SlackBytes;
        Assert.False(check.Check());
        // More: collected at the next quiet look, not when the back-off allows.
        _answersReleased += MiB;
        _allocated += IdleMemoryReturn.QuietBytes;
        Assert.False(check.Check()); // busy
        _afterCollection = 110 * MiB;
        Assert.True(check.Check());
        Assert.Equal(before + 1, _collections);
        Assert.False(check.Check());
    }

    [Fact]
    public void Without_growth_or_a_closed_connection_nothing_is_collected()
    {
        var check = Check();
        _committed = 100 * MiB;
        check.Check();
        _committed = _afterCollection = 400 * MiB;
        Assert.True(check.Check());
        _committed = 400 * MiB + IdleMemoryReturn.SlackBytes;
        Assert.All(Enumerable.Range(0, 100), _ => Assert.False(check.Check()));
        Assert.Equal(1, _collections);
    }

    [Fact]
    public void Nothing_is_collected_before_the_runtime_has_reported_its_memory()
    {
        var check = Check();
        _committed = 0;
        check.ConnectionClosed();
        Assert.False(check.Check());
        Assert.Equal(0, _collections);
    }
}
