using Kvorum.Server.Node;

namespace Kvorum.Server.Tests.Node;

/// <summary>The leader's snapshots a member keeps until its core installs one (<see cref="ReceivedSnapshots"/>).</summary>
public sealed class ReceivedSnapshotsTests
{
    [Fact]
    public void The_newest_two_are_kept_and_one_at_the_same_index_replaces_the_other()
    {
        using var storage = new TemporaryStorage();
        using var received = new ReceivedSnapshots();
        var first = storage.Receive(3);
        received.Add(first);
        received.Add(storage.Receive(5));
        var again = storage.Receive(3);
        received.Add(again);
        Assert.Equal<ulong>([3, 5], received.Indexes.Order());
        Assert.Throws<ObjectDisposedException>(() => first.Write(new byte[1]));

        received.Add(storage.Receive(8));
        Assert.Equal<ulong>([5, 8], received.Indexes.Order());
        Assert.Throws<ObjectDisposedException>(() => again.Write(new byte[1]));
    }

    [Fact]
    public void Taking_one_to_install_drops_the_others()
    {
        using var storage = new TemporaryStorage();
        using var received = new ReceivedSnapshots();
        var other = storage.Receive(4);
        received.Add(other);
        received.Add(storage.Receive(6));

        using var taken = received.Take(6);

        Assert.Equal(6UL, taken.Index);
        taken.Write(new byte[1]); // still open
        Assert.Empty(received.Indexes);
        Assert.Throws<ObjectDisposedException>(() => other.Write(new byte[1]));
    }

    [Fact]
    public void The_core_asking_for_one_that_never_arrived_is_an_error()
    {
        using var received = new ReceivedSnapshots();
        var error = Assert.Throws<InvalidOperationException>(() => received.Take(9));
        Assert.Equal("told to install snapshot 9 that never arrived", error.Message);
    }

    [Fact]
    public void Only_the_loop_thread_changes_them() =>
        LoopThread.AssertOnlyTheLoopMay(owner => new ReceivedSnapshots(owner).Dispose());
}
