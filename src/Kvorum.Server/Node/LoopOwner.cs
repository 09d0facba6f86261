using System.Diagnostics;

namespace Kvorum.Server.Node;

/// <summary>
/// The thread that owns a member's loop state: the Raft core, the state machine and the tables of waiters and
/// schedules beside them (<see cref="ProposalTable"/>, <see cref="LinearizableReads"/> and the others), none of which
/// takes a lock. The member loop binds it when its thread starts and releases it when it stops; each of those types
/// calls <see cref="AssertOwned"/> at the entry of the methods that change it, so that in a debug build a call from
/// any other thread fails at once instead of racing the loop.
/// </summary>
/// <remarks>
/// Before the loop starts and after it stops, nobody is bound and every thread passes: loading the member (which
/// replays the log) runs on the thread that starts it, while no other thread can reach it yet, and disposing it
/// after the loop stopped runs on whichever thread disposes it. A type created without an owner (in a test) has
/// one of its own that is never bound.
/// </remarks>
internal sealed class LoopOwner
{
    // The loop's thread while it runs; null before it starts and after it stops.
    private Thread? _thread;

    /// <summary>Makes the calling thread the owner: called first thing by the loop thread.</summary>
    /// <exception cref="InvalidOperationException">Another thread owns it.</exception>
    public void Bind()
    {
        var bound = Interlocked.CompareExchange(ref _thread, Thread.CurrentThread, null);
        if (bound is not null && bound != Thread.CurrentThread)
            throw new InvalidOperationException($"the loop state is already owned by thread '{bound.Name}'");
    }

    /// <summary>Gives up ownership: called last thing by the loop thread, once nothing of it runs any more.</summary>
    public void Release() => Volatile.Write(ref _thread, null);

    /// <summary>True when the calling thread may use the state: it is the loop's thread, or no loop runs.</summary>
    public bool IsOwned => Volatile.Read(ref _thread) is not { } thread || thread == Thread.CurrentThread;

    /// <summary>In a debug build, fails unless the calling thread may use the loop's state (<see cref="IsOwned"/>).</summary>
    /// <exception cref="InvalidOperationException">Called on another thread while the loop runs.</exception>
    [Conditional("DEBUG")]
    public void AssertOwned()
    {
        if (!IsOwned)
            throw new InvalidOperationException(
                $"loop state used on thread '{Thread.CurrentThread.Name ?? Environment.CurrentManagedThreadId.ToString(System.Globalization.CultureInfo.InvariantCulture)}' while its loop runs on '{Volatile.Read(ref _thread)?.Name}'");
    }
}
