namespace Kvorum.Server.Observe;

/// <summary>
/// One watcher's bounded queue of events. The member loop offers events and never waits: once the queue is full, message
/// events are dropped and counted, and state events replace one another in a single slot, so the watcher still gets
/// the latest state, exact, after it catches up, followed by a <see cref="ObservedKind.Dropped"/> event that says how
/// many messages it lost. The watcher's call reads it (<see cref="TryTake"/>, <see cref="WaitAsync"/>).
/// </summary>
/// <remarks>
/// One writer (the loop) and one reader (the watcher's call), under a lock held only to move one event: the loop never
/// waits for the reader, only, at worst, for another event's move.
/// </remarks>
internal sealed class ObserverQueue(int capacity)
{
    private readonly Lock _gate = new();
    private readonly Queue<ObservedEvent> _events = new();

    /// <summary>The latest state offered while the queue was full (or while an earlier one waited here); null if none.</summary>
    private ObservedEvent? _pendingState;

    /// <summary>Message events dropped because the queue was full, not yet reported.</summary>
    private long _slow;

    /// <summary>Events left out by sampling while the queue was full, not yet reported.</summary>
    private long _sampled;

    /// <summary>Microseconds when the first loss not yet reported happened.</summary>
    private long _lossAt;

    /// <summary>Completed when an event arrives; set by a reader that found nothing.</summary>
    private TaskCompletionSource? _waiter;

    /// <summary>The most events the queue holds.</summary>
    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    /// <summary>Queues <paramref name="e"/>, or counts it as lost when the queue is full. Never blocks for long.</summary>
    public void Offer(in ObservedEvent e)
    {
        TaskCompletionSource? waiter;
        lock (_gate)
        {
            // While a state waits in its slot the queue counts as full, so that nothing overtakes it.
            var full = _pendingState is not null || _events.Count >= Capacity;
            if (!full)
                _events.Enqueue(e);
            else if (e.Kind == ObservedKind.State)
                _pendingState = e;
            else
            {
                if (_slow == 0 && _sampled == 0)
                    _lossAt = e.UnixMicros;
                if (e.Kind == ObservedKind.Dropped)
                {
                    _slow += e.Slow;
                    _sampled += e.Sampled;
                }
                else
                    _slow++;
            }
            waiter = _waiter;
            _waiter = null;
        }
        waiter?.TrySetResult();
    }

    /// <summary>
    /// Takes the next event: the queued ones in order, then a report of what was lost meanwhile, then the latest state
    /// that waited in its slot.
    /// </summary>
    public bool TryTake(out ObservedEvent e)
    {
        lock (_gate)
        {
            if (_events.TryDequeue(out e))
                return true;
            if (_slow > 0 || _sampled > 0)
            {
                e = new ObservedEvent(ObservedKind.Dropped, _lossAt, Slow: _slow, Sampled: _sampled);
                _slow = 0;
                _sampled = 0;
                return true;
            }
            if (_pendingState is { } state)
            {
                e = state;
                _pendingState = null;
                return true;
            }
            return false;
        }
    }

    /// <summary>Completes when an event may be there to take (at once if one is).</summary>
    public Task WaitAsync(CancellationToken cancellation)
    {
        lock (_gate)
        {
            if (_events.Count > 0 || _slow > 0 || _sampled > 0 || _pendingState is not null)
                return Task.CompletedTask;
            _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _waiter.Task.WaitAsync(cancellation);
        }
    }
}
