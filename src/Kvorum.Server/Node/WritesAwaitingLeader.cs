using Kvorum.Etcd.Errors;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Node;

/// <summary>
/// Writes that reached this member while it knew no leader (an election under way, or a member cut off from the
/// majority), waiting for one as etcd's do: etcd's Raft node stops taking proposals while it has no leader, so a write
/// blocks until a leader is known or the request timeout passes. A client of Kvorum then sees a failover as a slower
/// write, not as an error, as it would with etcd. When the loop knows a leader again it takes them (<see cref="TakeAll"/>)
/// and proposes them in the order they came; those still waiting at the request timeout fail with "request timed out";
/// one whose client gave up first is dropped without being proposed, so it can never take effect.
/// </summary>
/// <remarks>
/// Owned by the member loop (<see cref="LoopOwner"/>). Time is whatever clock the caller passes (the loop passes
/// <see cref="System.Diagnostics.Stopwatch"/> timestamps). Invariant: arrival times are non-decreasing from head to
/// tail, so the head is always the first to expire.
/// </remarks>
internal sealed class WritesAwaitingLeader
{
    private readonly Queue<Waiting> _waiting = new();
    private readonly long _timeout;
    private readonly LoopOwner _owner;
    private long _lastArrival = long.MinValue;

    /// <summary>A queue whose writes time out <paramref name="timeout"/> clock units after they arrive.</summary>
    /// <param name="timeout">The request timeout, in the units of the clock passed to <see cref="Add"/> and <see cref="Expire"/>.</param>
    /// <param name="owner">The loop that owns the queue; a test passes none.</param>
    public WritesAwaitingLeader(long timeout, LoopOwner? owner = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timeout);
        _timeout = timeout;
        _owner = owner ?? new LoopOwner();
    }

    /// <summary>A write waiting: the request, its client's waiter, and when it arrived.</summary>
    public readonly record struct Waiting(InternalRequest Request, TaskCompletionSource<object> Waiter, long ArrivedAt);

    /// <summary>Writes waiting.</summary>
    public int Count => _waiting.Count;

    /// <summary>Keeps <paramref name="request"/>, which arrived at <paramref name="now"/>, until a leader is known.</summary>
    public void Add(InternalRequest request, TaskCompletionSource<object> waiter, long now)
    {
        _owner.AssertOwned();
        // A write handed back after TakeAll is older than the newest: it takes the newest's time, so the order holds.
        _lastArrival = Math.Max(_lastArrival, now);
        _waiting.Enqueue(new Waiting(request, waiter, _lastArrival));
    }

    /// <summary>
    /// Fails the writes that arrived <see cref="_timeout"/> or more before <paramref name="now"/> with "request timed
    /// out", as etcd's proposal fails at its deadline, and forgets those whose client gave up.
    /// </summary>
    public void Expire(long now)
    {
        _owner.AssertOwned();
        while (_waiting.TryPeek(out var head) && (head.ArrivedAt + _timeout <= now || head.Waiter.Task.IsCompleted))
        {
            _waiting.Dequeue();
            head.Waiter.TrySetException(new EtcdException(EtcdErrors.TimedOut));
        }
    }

    /// <summary>
    /// A leader is known: hands over, in arrival order, the writes whose client still waits, and empties the queue.
    /// The caller proposes them; one the core refuses again goes back through <see cref="Add"/>.
    /// </summary>
    public List<Waiting> TakeAll()
    {
        _owner.AssertOwned();
        var taken = new List<Waiting>(_waiting.Count);
        foreach (var w in _waiting)
        {
            if (!w.Waiter.Task.IsCompleted)
                taken.Add(w);
        }
        _waiting.Clear();
        return taken;
    }

    /// <summary>Fails every write waiting with <paramref name="error"/> (the member stops).</summary>
    public void FailAll(EtcdException error)
    {
        _owner.AssertOwned();
        foreach (var w in _waiting)
            w.Waiter.TrySetException(error);
        _waiting.Clear();
    }
}
