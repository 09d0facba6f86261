using Kvorum.Server.Node;

namespace Kvorum.Server.Tests.Node;

/// <summary>The check that only the member loop's thread changes the state it owns (<see cref="LoopOwner"/>).</summary>
public sealed class LoopOwnerTests
{
    [Fact]
    public void Before_a_loop_binds_it_and_after_it_releases_it_every_thread_may_use_the_state()
    {
        var owner = new LoopOwner();
        Assert.True(owner.IsOwned);
        owner.AssertOwned();

        var loop = new LoopThread();
        Assert.False(loop.Owner.IsOwned);
        loop.Dispose();
        Assert.True(loop.Owner.IsOwned);
        loop.Owner.AssertOwned();
    }

    [Fact]
    public void While_a_loop_runs_only_its_thread_may_use_the_state_and_no_other_thread_may_bind_it()
    {
        using var loop = new LoopThread();
        Assert.True(loop.Run(() => loop.Owner.IsOwned));
        loop.Run(() =>
        {
            loop.Owner.AssertOwned();
            loop.Owner.Bind(); // binding again from the same thread changes nothing
            return 0;
        });
        Assert.False(loop.Owner.IsOwned);
        Assert.Throws<InvalidOperationException>(loop.Owner.Bind);
    }

#if DEBUG
    [Fact]
    public void In_a_debug_build_a_use_off_the_loop_thread_fails_naming_the_loop_thread()
    {
        using var loop = new LoopThread();
        var error = Assert.Throws<InvalidOperationException>(() => loop.Owner.AssertOwned());
        Assert.Contains("'test-loop'", error.Message, StringComparison.Ordinal);
    }
#endif
}
