using Kvorum.Etcd.Errors;
using Kvorum.Server.Node;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Tests.Node;

/// <summary>The writes a member keeps while it knows no leader (<see cref="WritesAwaitingLeader"/>).</summary>
public sealed class WritesAwaitingLeaderTests
{
    private const long Timeout = 100;

    private static TaskCompletionSource<object> Waiter() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [Fact]
    public void A_leader_takes_the_writes_in_arrival_order_and_leaves_out_those_whose_client_gave_up()
    {
        var queue = new WritesAwaitingLeader(Timeout);
        var (a, b, c) = (Waiter(), Waiter(), Waiter());
        queue.Add(new InternalRequest { Id = 1 }, a, 0);
        queue.Add(new InternalRequest { Id = 2 }, b, 10);
        queue.Add(new InternalRequest { Id = 3 }, c, 20);
        b.TrySetException(new EtcdException(EtcdErrors.Cancelled));

        var taken = queue.TakeAll();

        Assert.Equal([1UL, 3UL], taken.Select(w => w.Request.Id));
        Assert.Equal([0L, 20L], taken.Select(w => w.ArrivedAt));
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void Writes_fail_with_request_timed_out_once_they_have_waited_the_timeout_and_later_ones_keep_waiting()
    {
        var queue = new WritesAwaitingLeader(Timeout);
        var (early, late) = (Waiter(), Waiter());
        queue.Add(new InternalRequest(), early, 0);
        queue.Add(new InternalRequest(), late, 50);

        queue.Expire(Timeout - 1);
        Assert.False(early.Task.IsCompleted);
        queue.Expire(Timeout);

        Assert.Equal(EtcdErrors.TimedOut, Assert.IsType<EtcdException>(early.Task.Exception?.InnerException).Error);
        Assert.False(late.Task.IsCompleted);
        Assert.Equal(1, queue.Count);
    }

    [Fact]
    public void A_write_handed_back_older_than_the_newest_takes_the_newest_time_so_the_head_expires_first()
    {
        var queue = new WritesAwaitingLeader(Timeout);
        var (newer, older) = (Waiter(), Waiter());
        queue.Add(new InternalRequest(), newer, 50);
        queue.Add(new InternalRequest(), older, 0);

        queue.Expire(Timeout + 49);
        Assert.False(newer.Task.IsCompleted);
        Assert.False(older.Task.IsCompleted);
        queue.Expire(Timeout + 50);
        Assert.True(newer.Task.IsFaulted && older.Task.IsFaulted);
    }

    [Fact]
    public void Stopping_fails_every_write_waiting()
    {
        var queue = new WritesAwaitingLeader(Timeout);
        var w = Waiter();
        queue.Add(new InternalRequest(), w, 0);

        queue.FailAll(new EtcdException(EtcdErrors.ServerStopped));

        Assert.Equal(EtcdErrors.ServerStopped, Assert.IsType<EtcdException>(w.Task.Exception?.InnerException).Error);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void Only_the_loop_thread_changes_the_queue() =>
        LoopThread.AssertOnlyTheLoopMay(owner => new WritesAwaitingLeader(Timeout, owner).Add(new InternalRequest(), Waiter(), 0));
}
