using Kvorum.Etcd.Errors;
using Kvorum.Server.Node;

namespace Kvorum.Server.Tests.Node;

/// <summary><see cref="AppliedIndexWaiters"/>: released in index order as entries apply, forgotten when given up on.</summary>
public sealed class AppliedIndexWaitersTests
{
    private static TaskCompletionSource Waiter() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [Fact]
    public void Waiters_are_released_once_their_index_is_applied_and_at_once_when_it_already_is()
    {
        var waiters = new AppliedIndexWaiters();
        var (at5, at7, again5, done) = (Waiter(), Waiter(), Waiter(), Waiter());
        waiters.Add(7, at7, applied: 3);
        waiters.Add(5, at5, applied: 3);
        waiters.Add(5, again5, applied: 3);
        waiters.Add(3, done, applied: 3);
        Assert.True(done.Task.IsCompletedSuccessfully);
        Assert.Equal(3, waiters.Count);
        waiters.Release(4);
        Assert.False(at5.Task.IsCompleted);
        waiters.Release(6);
        Assert.True(at5.Task.IsCompletedSuccessfully && again5.Task.IsCompletedSuccessfully);
        Assert.False(at7.Task.IsCompleted);
        waiters.Release(7);
        Assert.True(at7.Task.IsCompletedSuccessfully);
        Assert.Equal(0, waiters.Count);
    }

    [Fact]
    public void A_forgotten_waiter_holds_nothing_and_the_rest_fail_when_the_member_stops()
    {
        var waiters = new AppliedIndexWaiters();
        var (far, near) = (Waiter(), Waiter());
        waiters.Add(ulong.MaxValue, far, applied: 1);
        waiters.Add(9, near, applied: 1);
        waiters.Forget(far);
        Assert.Equal(1, waiters.Count);
        waiters.Forget(far); // twice: nothing
        waiters.FailAll(new EtcdException(EtcdErrors.ServerStopped));
        Assert.Equal(0, waiters.Count);
        Assert.False(far.Task.IsCompleted);
        Assert.IsType<EtcdException>(near.Task.Exception?.InnerException);
    }
}
