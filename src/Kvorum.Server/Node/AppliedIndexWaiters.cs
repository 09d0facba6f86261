using Kvorum.Etcd.Errors;

namespace Kvorum.Server.Node;

/// <summary>
/// Callers waiting for this member to apply the log up to an index: a client presenting a simple token got from
/// another member, whose login this one has not applied yet (etcd's token provider waits the same way). Released in
/// index order as entries apply; a waiter given up on is forgotten at once, so a token naming an index far ahead holds
/// nothing once its caller has gone.
/// </summary>
/// <remarks>Owned by the member loop (asserted in debug builds); callers reach it through posted work.</remarks>
internal sealed class AppliedIndexWaiters(LoopOwner? owner = null)
{
    private readonly LoopOwner _owner = owner ?? new LoopOwner();

    // Ordered by index, then by arrival: released from the front.
    private readonly SortedSet<(ulong Index, long Arrival, TaskCompletionSource Waiter)> _waiting =
        new(Comparer<(ulong Index, long Arrival, TaskCompletionSource Waiter)>.Create(static (a, b) =>
            a.Index != b.Index ? a.Index.CompareTo(b.Index) : a.Arrival.CompareTo(b.Arrival)));

    private readonly Dictionary<TaskCompletionSource, (ulong Index, long Arrival)> _byWaiter = [];
    private long _arrivals;

    /// <summary>How many wait.</summary>
    public int Count => _waiting.Count;

    /// <summary>Completes <paramref name="waiter"/> once <paramref name="index"/> is applied; at once if it is (<paramref name="applied"/>).</summary>
    public void Add(ulong index, TaskCompletionSource waiter, ulong applied)
    {
        ArgumentNullException.ThrowIfNull(waiter);
        _owner.AssertOwned();
        if (index <= applied)
        {
            waiter.TrySetResult();
            return;
        }
        var arrival = _arrivals++;
        _waiting.Add((index, arrival, waiter));
        _byWaiter[waiter] = (index, arrival);
    }

    /// <summary>Completes the waiters whose index is at most <paramref name="applied"/>.</summary>
    public void Release(ulong applied)
    {
        _owner.AssertOwned();
        while (_waiting.Count > 0 && _waiting.Min.Index <= applied)
        {
            var first = _waiting.Min;
            _waiting.Remove(first);
            _byWaiter.Remove(first.Waiter);
            first.Waiter.TrySetResult();
        }
    }

    /// <summary>Drops <paramref name="waiter"/>, whose caller gave up (timed out or cancelled).</summary>
    public void Forget(TaskCompletionSource waiter)
    {
        _owner.AssertOwned();
        if (_byWaiter.Remove(waiter, out var at))
            _waiting.Remove((at.Index, at.Arrival, waiter));
    }

    /// <summary>Fails every waiter with <paramref name="error"/> (the member stops).</summary>
    public void FailAll(EtcdException error)
    {
        _owner.AssertOwned();
        var waiters = _waiting.Select(w => w.Waiter).ToList();
        _waiting.Clear();
        _byWaiter.Clear();
        foreach (var waiter in waiters)
            waiter.TrySetException(error);
    }
}
