using Kvorum.Etcd.Errors;
using Kvorum.Server.Node;

namespace Kvorum.Server.Tests.Node;

/// <summary>The writes a member waits to apply (<see cref="ProposalTable"/>), on a clock the test moves.</summary>
public sealed class ProposalTableTests
{
    private const long Timeout = 100;

    private static TaskCompletionSource<object> Waiter() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static EtcdException ErrorOf(TaskCompletionSource<object> waiter) =>
        Assert.IsType<EtcdException>(Assert.Single(waiter.Task.Exception!.InnerExceptions));

    [Fact]
    public void Ids_follow_the_first_one_given()
    {
        var table = new ProposalTable(Timeout, firstId: 41);
        Assert.Equal(42UL, table.NextId());
        Assert.Equal(43UL, table.NextId());
    }

    [Fact]
    public async Task An_applied_request_completes_its_waiter_with_the_result_once_and_others_find_nothing()
    {
        var table = new ProposalTable(Timeout, 0);
        var waiter = Waiter();
        table.Add(7, waiter, now: 0);

        table.Complete(8, "someone else's"); // applied here, proposed elsewhere
        Assert.False(waiter.Task.IsCompleted);
        table.Complete(7, "applied");

        Assert.Equal("applied", await waiter.Task);
        Assert.Equal(0, table.Count);
        table.Complete(7, "again"); // a duplicate finds nothing
        Assert.Equal("applied", await waiter.Task);
    }

    [Fact]
    public void A_proposal_times_out_when_its_deadline_comes_and_not_a_tick_before()
    {
        var table = new ProposalTable(Timeout, 0);
        var first = Waiter();
        var second = Waiter();
        table.Add(1, first, now: 1000);
        table.Add(2, second, now: 1050);

        table.Expire(1099);
        Assert.False(first.Task.IsCompleted);
        table.Expire(1100);
        var error = ErrorOf(first);
        Assert.Equal(EtcdErrors.TimedOut, error.Error);
        Assert.False(second.Task.IsCompleted);

        table.Expire(1150);
        Assert.Equal(EtcdErrors.TimedOut, ErrorOf(second).Error);
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public async Task A_proposal_applied_in_time_is_not_failed_when_its_deadline_passes()
    {
        var table = new ProposalTable(Timeout, 0);
        var waiter = Waiter();
        table.Add(1, waiter, now: 0);
        table.Complete(1, "done");
        table.Expire(Timeout * 10);
        Assert.Equal("done", await waiter.Task);
    }

    [Fact]
    public void A_waiter_its_client_gave_up_on_stays_until_applied_or_expired_and_either_finds_it_completed()
    {
        var table = new ProposalTable(Timeout, 0);
        var cancelled = Waiter();
        table.Add(1, cancelled, now: 0);
        cancelled.TrySetException(new EtcdException(EtcdErrors.Cancelled));
        Assert.Equal(1, table.Count);
        table.Expire(Timeout);
        Assert.Equal(0, table.Count);
        Assert.Equal(EtcdErrors.Cancelled, ErrorOf(cancelled).Error);
    }

    [Fact]
    public void Stopping_fails_every_proposal_and_forgets_their_deadlines()
    {
        var table = new ProposalTable(Timeout, 0);
        var waiters = Enumerable.Range(1, 3).Select(_ => Waiter()).ToArray();
        for (var i = 0; i < waiters.Length; i++)
            table.Add((ulong)i + 1, waiters[i], now: i);

        table.FailAll(new EtcdException(EtcdErrors.ServerStopped));

        Assert.All(waiters, w => Assert.Equal(EtcdErrors.ServerStopped, ErrorOf(w).Error));
        Assert.Equal(0, table.Count);
        var later = Waiter();
        table.Add(9, later, now: Timeout * 5);
        table.Expire(Timeout * 5 + Timeout - 1); // no deadline of the failed ones is left to expire this one early
        Assert.False(later.Task.IsCompleted);
    }

    [Fact]
    public void Only_the_loop_thread_changes_the_table() =>
        LoopThread.AssertOnlyTheLoopMay(owner => new ProposalTable(Timeout, 0, owner).Add(1, Waiter(), 0));
}
