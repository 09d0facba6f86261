namespace Kvorum.Server.Http2;

/// <summary>
/// The bytes a member may hold in answers that are built but not yet handed to the transport, across all its
/// streams (<c>--experimental-max-unread-response-bytes</c>). A large answer takes its size from the budget before it
/// is written and gives it back once it has been sent or its stream has ended; when the budget is used up it waits,
/// first come first served, up to a limit its caller sets. Answers under <see cref="SmallAnswerBytes"/> neither count
/// nor wait, so that the ordinary calls of a cluster go on whatever the large ones do.
/// </summary>
/// <remarks>
/// <para>Why: HTTP/2 flow control stops an answer at the client's window, and the rest of it waits in the stream's
/// buffers until the client reads. A client that never reads keeps one whole answer alive, so N such clients keep N
/// answers: without a member-wide bound, a few hundred full-range reads take all the memory there is.</para>
/// <para>An answer larger than the whole budget is let through when nothing else holds any of it, so that no answer
/// is refused for its size alone.</para>
/// <para>Any thread; one lock guards <see cref="InUse"/> and the queue of waiters.</para>
/// </remarks>
internal sealed class UnreadAnswerBudget
{
    /// <summary>
    /// Answers under this size neither count nor wait: Kestrel hands up to this much of a stream's output to the
    /// connection without waiting for the client (its response buffer), so a stream cannot hold more of them.
    /// </summary>
    public const int SmallAnswerBytes = 64 * 1024;

    /// <summary>The budget when none is configured.</summary>
    public const long DefaultBytes = 256L << 20;

    /// <summary>How long a large answer waits for budget when its call has no deadline: etcd's request timeout.</summary>
    public static readonly TimeSpan WaitWithoutDeadline = TimeSpan.FromSeconds(5);

    /// <summary>The longest part of a call's remaining time that is kept back to deliver the refusal before the deadline.</summary>
    public static readonly TimeSpan DeadlineMargin = TimeSpan.FromMilliseconds(500);

    private readonly Lock _lock = new();
    private readonly LinkedList<Waiter> _waiting = new();
    private long _inUse;
    private long _released;

    /// <summary>Creates a budget of <paramref name="bytes"/>.</summary>
    public UnreadAnswerBudget(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        Bytes = bytes;
    }

    /// <summary>The budget's size.</summary>
    public long Bytes { get; }

    /// <summary>Bytes of large answers taken and not yet given back.</summary>
    public long InUse
    {
        get
        {
            lock (_lock)
                return _inUse;
        }
    }

    /// <summary>
    /// Bytes of large answers given back since the start: answers sent, or dropped with their stream. What they held is
    /// garbage from then on (<see cref="IdleMemoryReturn"/> reads this). Any thread.
    /// </summary>
    public long Released => Interlocked.Read(ref _released);

    /// <summary>Large answers waiting for budget now.</summary>
    public int Waiting
    {
        get
        {
            lock (_lock)
                return _waiting.Count;
        }
    }

    /// <summary>Whether an answer of <paramref name="bytes"/> passes without counting.</summary>
    public static bool IsSmall(long bytes) => bytes < SmallAnswerBytes;

    /// <summary>
    /// How long a call may wait for budget: up to a little before its <paramref name="deadline"/> (so that the refusal
    /// reaches the client rather than its own timeout), or <see cref="WaitWithoutDeadline"/> without one.
    /// </summary>
    public static TimeSpan WaitLimit(DateTime deadline, DateTime now)
    {
        if (deadline == DateTime.MaxValue)
            return WaitWithoutDeadline;
        var remaining = deadline - now;
        var margin = TimeSpan.FromTicks(Math.Min(DeadlineMargin.Ticks, remaining.Ticks / 10));
        return remaining - margin > TimeSpan.Zero ? remaining - margin : TimeSpan.Zero;
    }

    /// <summary>
    /// Takes <paramref name="bytes"/> for an answer about to be written if there is room now and nobody waits for it;
    /// true when taken (a small answer always is, without counting). What <see cref="TakeAsync"/> does without waiting.
    /// </summary>
    public bool TryTake(long bytes)
    {
        if (IsSmall(bytes))
            return true;
        lock (_lock)
            return TryTakeUnsynchronized(bytes);
    }

    /// <summary>
    /// Takes <paramref name="bytes"/> for an answer about to be written, waiting up to <paramref name="maxWait"/> for
    /// them. True when taken (a small answer always is, without counting); false when the wait ran out.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> fired while waiting.</exception>
    public async ValueTask<bool> TakeAsync(long bytes, TimeSpan maxWait, CancellationToken cancellation)
    {
        if (IsSmall(bytes))
            return true;
        Waiter waiter;
        lock (_lock)
        {
            if (TryTakeUnsynchronized(bytes))
                return true;
            if (maxWait <= TimeSpan.Zero)
                return false;
            waiter = new Waiter(bytes);
            waiter.Node = _waiting.AddLast(waiter);
        }
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        limit.CancelAfter(maxWait);
        try
        {
            await waiter.Granted.Task.WaitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            lock (_lock)
            {
                if (waiter.Node!.List is not null)
                {
                    _waiting.Remove(waiter.Node);
                    // The first in line leaving may let those behind it in.
                    GrantUnsynchronized();
                    cancellation.ThrowIfCancellationRequested();
                    return false;
                }
            }
            // Granted just as the wait ended: the answer will not be written, so the bytes go back.
            Release(bytes);
            cancellation.ThrowIfCancellationRequested();
            return false;
        }
        // Granted as the answer's stream ended (its connection closed, which freed the room it waited for): the room
        // goes back rather than to an answer that nobody will read.
        if (cancellation.IsCancellationRequested)
        {
            Release(bytes);
            cancellation.ThrowIfCancellationRequested();
        }
        return true;
    }

    /// <summary>Gives back what <see cref="TakeAsync"/> took for an answer of <paramref name="bytes"/>, and lets waiters in.</summary>
    public void Release(long bytes)
    {
        if (IsSmall(bytes))
            return;
        lock (_lock)
        {
            _inUse -= bytes;
            GrantUnsynchronized();
        }
        Interlocked.Add(ref _released, bytes);
    }

    /// <summary>Takes <paramref name="bytes"/> if nobody waits and they fit; the lock is held.</summary>
    private bool TryTakeUnsynchronized(long bytes)
    {
        if (_waiting.Count != 0 || !FitsUnsynchronized(bytes))
            return false;
        _inUse += bytes;
        return true;
    }

    private bool FitsUnsynchronized(long bytes) => _inUse == 0 || _inUse + bytes <= Bytes;

    /// <summary>Grants the waiters at the head of the line while they fit; the lock is held.</summary>
    private void GrantUnsynchronized()
    {
        while (_waiting.First is { } first && FitsUnsynchronized(first.Value.Bytes))
        {
            _waiting.RemoveFirst();
            _inUse += first.Value.Bytes;
            first.Value.Granted.TrySetResult();
        }
    }

    /// <summary>A large answer waiting for budget.</summary>
    private sealed class Waiter(long bytes)
    {
        public long Bytes { get; } = bytes;

        public TaskCompletionSource Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LinkedListNode<Waiter>? Node { get; set; }
    }
}
