using System.Collections.Concurrent;

namespace Kvorum.Server.Node;

/// <summary>
/// The event loop's queue of work: many threads post, the one loop thread takes. A post wakes the loop
/// directly (one event set, on the posting thread) only when the loop is asleep, so a message or a proposal
/// reaches the Raft core with one thread wake-up at most — a channel's async wait would route the wake-up
/// through a thread-pool thread first. Not disposable: transport threads may still post after the loop has
/// stopped, and the event holds no kernel handle unless one is asked for.
/// </summary>
#pragma warning disable CA1001 // See above: the event is never disposed, on purpose.
internal sealed class LoopInbox
#pragma warning restore CA1001
{
    private readonly ConcurrentQueue<Action> _queue = new();

    // Few spins before blocking: on 2 cores the other processes of a cluster need the CPU more than the loop
    // needs the few microseconds a blocked wait costs.
    private readonly ManualResetEventSlim _wake = new(initialState: false, spinCount: 10);

    // 1 while the loop is in (or about to enter) a blocking wait. Each side makes its write visible with a full
    // fence before it reads the other's (the poster: item, fence, _sleeping; the loop: _sleeping, fence, queue),
    // so either the loop sees the posted item or the poster sees the loop asleep.
    private int _sleeping;

    /// <summary>Queues <paramref name="work"/> and wakes the loop if it sleeps. Never blocks.</summary>
    public void Post(Action work)
    {
        _queue.Enqueue(work);
        // The queue publishes the item with a release store, which a later load may overtake: without this
        // fence the read below could see the loop awake while the loop, about to sleep, cannot yet see the
        // item (a lost wake-up, costing the work a whole tick).
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _sleeping) == 1 && Interlocked.Exchange(ref _sleeping, 0) == 1)
            _wake.Set();
    }

    /// <summary>Takes the oldest queued work. Loop thread only.</summary>
    public bool TryTake(out Action work) => _queue.TryDequeue(out work!);

    /// <summary>Blocks until something is queued (true) or <paramref name="stop"/> is cancelled (false). Loop thread only.</summary>
    public bool WaitForWork(CancellationToken stop)
    {
        while (_queue.IsEmpty)
        {
            _wake.Reset();
            Interlocked.Exchange(ref _sleeping, 1);
            if (!_queue.IsEmpty)
                break;
            try
            {
                _wake.Wait(stop);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }
        Volatile.Write(ref _sleeping, 0);
        return !stop.IsCancellationRequested;
    }
}
