using Kvorum.Etcd.Errors;

namespace Kvorum.Server.Node;

/// <summary>
/// The writes this member proposed and still waits to apply: each one's waiter by request id, and the deadline at
/// which it fails with "request timed out" (an entry a new leader overwrote is never applied). Applying a request
/// completes its waiter with what applying produced; the loop's ticks expire the rest (<see cref="Expire"/>), not a
/// timer per request; stopping the member fails them all. A leader change fails none: a proposal forwarded to the old
/// leader may still commit, and one that does not times out.
/// </summary>
/// <remarks>
/// <para>Owned by the member loop (<see cref="LoopOwner"/>). The clock is whatever the caller counts deadlines in
/// (the loop passes <see cref="System.Diagnostics.Stopwatch"/> timestamps); it is read, not counted in ticks, because
/// on a loaded machine the ticker's callbacks come late and a count of ticks would stretch the timeout with them.</para>
/// <para>A deadline is two numbers and no reference, so a request that completed in time keeps nothing alive until
/// its deadline passes. Invariant: deadlines are non-decreasing from head to tail (one timeout, a monotonic
/// clock).</para>
/// </remarks>
internal sealed class ProposalTable
{
    private readonly Dictionary<ulong, TaskCompletionSource<object>> _waiters = [];
    private readonly Queue<(ulong Id, long Deadline)> _deadlines = new();
    private readonly long _timeout;
    private readonly LoopOwner _owner;
    private ulong _lastId;

    /// <summary>A table whose proposals time out <paramref name="timeout"/> clock units after they are added.</summary>
    /// <param name="timeout">The request timeout, in the units of the clock passed to <see cref="Add"/> and <see cref="Expire"/>.</param>
    /// <param name="firstId">The id before the first one <see cref="NextId"/> hands out.</param>
    /// <param name="owner">The loop that owns the table; a test passes none.</param>
    public ProposalTable(long timeout, ulong firstId, LoopOwner? owner = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timeout);
        _timeout = timeout;
        _lastId = firstId;
        _owner = owner ?? new LoopOwner();
    }

    /// <summary>Proposals waiting.</summary>
    public int Count => _waiters.Count;

    /// <summary>The id of the next request this member proposes (a client's write, or its own attributes).</summary>
    public ulong NextId()
    {
        _owner.AssertOwned();
        return ++_lastId;
    }

    /// <summary>Waits for request <paramref name="id"/>, proposed at <paramref name="now"/>, to be applied.</summary>
    public void Add(ulong id, TaskCompletionSource<object> waiter, long now)
    {
        _owner.AssertOwned();
        _waiters[id] = waiter;
        _deadlines.Enqueue((id, now + _timeout));
    }

    /// <summary>Fails the proposals whose deadline has come by <paramref name="now"/> with "request timed out".</summary>
    public void Expire(long now)
    {
        _owner.AssertOwned();
        while (_deadlines.TryPeek(out var head) && head.Deadline <= now)
        {
            _deadlines.Dequeue();
            if (_waiters.Remove(head.Id, out var waiter))
                waiter.TrySetException(new EtcdException(EtcdErrors.TimedOut));
        }
    }

    /// <summary>Request <paramref name="id"/> was applied: its waiter, if this member proposed it, gets <paramref name="result"/>.</summary>
    public void Complete(ulong id, object result)
    {
        _owner.AssertOwned();
        if (_waiters.Remove(id, out var waiter))
            waiter.TrySetResult(result);
    }

    /// <summary>Fails every proposal with <paramref name="error"/> (the member stops).</summary>
    public void FailAll(EtcdException error)
    {
        _owner.AssertOwned();
        foreach (var waiter in _waiters.Values)
            waiter.TrySetException(error);
        _waiters.Clear();
        _deadlines.Clear();
    }
}
