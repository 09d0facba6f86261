using System.Diagnostics;

namespace Kvorum.Storage;

/// <summary>
/// The batches a group committer has taken for writing whose waiters have no answer yet, oldest first.
/// Acknowledges them strictly in order as fsyncs return, or fails all of them at once.
/// </summary>
/// <remarks>
/// <para>Invariant: the queue holds batches with consecutive, increasing <see cref="CommitBatch.Sequence"/>
/// numbers, none of them completed; every batch with a lower number has been completed (successfully or not).
/// So a batch's task never completes before the task of an earlier batch.</para>
/// <para>Why acknowledging through an fsync covers the batches before it: batches are written in sequence
/// order, and a lane fsyncs only after its own batch's write returned, so every earlier batch's bytes were
/// in the file before that fsync started, and a successful fsync makes everything written before it durable.</para>
/// <para>Once <see cref="Fail"/> has run, nothing is acknowledged any more: an fsync that returns later
/// may not have seen the error (see <see cref="SegmentWriter"/>).</para>
/// </remarks>
internal sealed class WrittenBatches
{
    private readonly Queue<CommitBatch> _queue = new();
    private long _lastSequence;
    private Exception? _failure;

    /// <summary>Adds the batch that was just taken; its sequence number must follow the previous one's.</summary>
    public void Add(CommitBatch batch)
    {
        lock (_queue)
        {
            Debug.Assert(batch.Sequence == _lastSequence + 1, "batches are taken in sequence order");
            _lastSequence = batch.Sequence;
            if (_failure is { } failure)
            {
                batch.Done.TrySetException(failure);
                return;
            }
            _queue.Enqueue(batch);
        }
    }

    /// <summary>
    /// Completes, in order, every batch numbered up to <paramref name="sequence"/> that is still waiting, because
    /// an fsync started after that batch was written has returned successfully. Does nothing after a failure.
    /// </summary>
    /// <returns>The number of batches completed, and the sum of their <see cref="CommitBatch.Waiters"/>.</returns>
    public (int Batches, int Waiters) AcknowledgeThrough(long sequence)
    {
        var batches = 0;
        var waiters = 0;
        lock (_queue)
        {
            if (_failure is not null)
                return (0, 0);
            while (_queue.TryPeek(out var oldest) && oldest.Sequence <= sequence)
            {
                _queue.Dequeue();
                // RunContinuationsAsynchronously: this only queues the waiters' continuations to the thread
                // pool, so no caller code runs on the lane (where it could block the log or deadlock on it).
                var completed = oldest.Done.TrySetResult();
                Debug.Assert(completed, "only this queue completes a taken batch");
                batches++;
                waiters += oldest.Waiters;
            }
        }
        return (batches, waiters);
    }

    /// <summary>Fails every waiting batch, and every batch added later, with <paramref name="failure"/>.</summary>
    public void Fail(Exception failure)
    {
        lock (_queue)
        {
            _failure ??= failure;
            while (_queue.TryDequeue(out var batch))
                batch.Done.TrySetException(_failure);
        }
    }
}
