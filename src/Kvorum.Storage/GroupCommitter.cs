using System.Diagnostics;

namespace Kvorum.Storage;

/// <summary>
/// Group commit: callers queue records into a pending batch under the storage's lock and wait on its task; one
/// committer thread takes the pending batch, writes it, fsyncs it and acknowledges it, then takes the next.
/// </summary>
/// <remarks>
/// <para>Filling a batch: a writer appends again only once its previous append is acknowledged. If the committer
/// took the pending batch at once after an acknowledgement, the writers just acknowledged would miss it and wait
/// a whole fsync for the one after, and the writers would settle into two groups taking turns, each batch holding
/// about half of them. So the committer first lets the writers it has just acknowledged append again (see
/// <c>_returning</c>).</para>
/// <para>Locking: the storage's lock (<c>gate</c>) guards the pending batch; methods named <c>...Locked</c>
/// expect it held. The committer thread alone writes and fsyncs the segments, without the lock, so batches are
/// written in the order they were queued and the file is always a prefix of the queued stream.</para>
/// <para>Framing: each batch's records for a segment are written with a <see cref="BatchFrame"/> footer, so
/// that recovery keeps or drops a batch whole.</para>
/// <para>Durability: a batch's task completes only after an fsync that started after the batch (and so every
/// earlier batch) was written has returned, and after the directory entry of any segment it created was
/// flushed; tasks complete in batch order, since one thread completes them one batch after the other.</para>
/// <para>Failure: the first write or fsync error poisons the committer; the batch being written, every batch
/// queued behind it and every later one fail with <see cref="StorageFailedException"/>.</para>
/// </remarks>
internal sealed class GroupCommitter : IDisposable
{
    // How long the committer, having just acknowledged a batch, polls for the next append before it blocks. An
    // acknowledged writer (a single one, typically) appends again a few tens of microseconds later; finding that
    // append by polling spares it a thread wake-up on its way to the disk. 50 µs is a fraction of one fsync.
    private static readonly long SpinAfterAcknowledge = Stopwatch.Frequency / 20_000;

    // How long the committer may hold back a pending batch for the waiters it has just acknowledged to append again
    // (see _returning). Monitor.Wait counts whole milliseconds, so a shorter window would not be kept anyway.
    private static readonly long FillWindow = Stopwatch.Frequency / 1_000;

    private readonly object _gate;
    private readonly IFileSystem _fs;
    private readonly string _walDir;
    private readonly Thread _thread;
    private readonly Action<SegmentWriter>? _configureWriter;
    private readonly long _reserve;

    // Under _gate.
    private readonly Stack<CommitBatch> _free = new();
    private CommitBatch _pending = new();
    private Task _newestTaken = Task.CompletedTask;
    private bool _closing;

    // Acknowledged waiters are counted as returning (_returning), and a pending batch is taken once it holds that
    // many waiters, or at _fillDeadline (FillWindow after the last acknowledgement) if some do not come back.
    // Written under _gate; the committer reads them without the lock while it polls.
    private int _returning;
    private long _fillDeadline;

    // _pending.Waiters, for the committer's polling without the lock. Written under _gate.
    private volatile int _pendingWaiters;

    // The committer thread's own (and the opener's, before the thread starts).
    private SegmentWriter _writer;

    private Exception? _failure;
    private long _fsyncs;
    private long _batches;

    /// <summary>
    /// Starts the committer thread, appending to <paramref name="writer"/> first; segments it starts get
    /// <paramref name="reserve"/> bytes reserved (0: none).
    /// </summary>
    public GroupCommitter(object gate, IFileSystem fs, string walDir, SegmentWriter writer, long reserve, Action<SegmentWriter>? configureWriter)
    {
        _gate = gate;
        _fs = fs;
        _walDir = walDir;
        _writer = writer;
        _reserve = reserve;
        _configureWriter = configureWriter;
        _configureWriter?.Invoke(writer);
        _thread = new Thread(Run) { IsBackground = true, Name = "Kvorum WAL committer" };
        _thread.Start();
    }

    /// <summary>The error that stopped the committer, or null.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>fsyncs of segment files so far.</summary>
    public long Fsyncs => Interlocked.Read(ref _fsyncs);

    /// <summary>Batches acknowledged so far.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Reserves space for a record in the pending batch. Caller holds the lock and fills the span before releasing it.</summary>
    public Span<byte> ReserveLocked(Segment segment, int size)
    {
        Debug.Assert(Monitor.IsEntered(_gate));
        ThrowIfFailed();
        return _pending.Reserve(segment, size);
    }

    /// <summary>
    /// A task that completes once everything queued so far is durable, and wakes the committer: the pending
    /// batch's task, or if nothing is pending, the task of the newest batch taken (tasks complete in batch order).
    /// Caller holds the lock.
    /// </summary>
    public Task CommitLocked()
    {
        Debug.Assert(Monitor.IsEntered(_gate));
        ThrowIfFailed();
        if (_pending.IsEmpty)
            return _newestTaken;
        _pendingWaiters = ++_pending.Waiters;
        // Wake the committer if it blocks: it waits for the first commit of a batch, then for enough of them to
        // take it. (Pulse is cheap when it does not wait.)
        if (_pending.Waiters == 1 || _pending.Waiters >= TakeThreshold())
            Monitor.Pulse(_gate);
        return _pending.Done.Task;
    }

    /// <summary>Throws if the committer has failed.</summary>
    public void ThrowIfFailed()
    {
        if (Failure is { } f)
            throw new StorageFailedException($"the WAL is unusable after an earlier failure: {f.Message}", f);
    }

    /// <summary>The committer thread: takes, writes, fsyncs and acknowledges one batch after the other.</summary>
    private void Run()
    {
        long spinUntil = 0;
        while (WaitForWork(spinUntil))
        {
            var batch = TakePending();
            if (batch is null)
                continue;
            try
            {
                Write(batch);
                if (_writer.Sync(_writer.Length))
                    Interlocked.Increment(ref _fsyncs);
                // RunContinuationsAsynchronously: this only queues the waiters' continuations to the thread pool,
                // so no caller code runs on the committer (where it could block the log or deadlock on it).
                batch.Done.TrySetResult();
                Interlocked.Increment(ref _batches);
                if (batch.Waiters > 0)
                    ExpectReturningWaiters(batch.Waiters);
                spinUntil = Stopwatch.GetTimestamp() + SpinAfterAcknowledge;
            }
#pragma warning disable CA1031 // Any failure must reach the waiting appenders rather than kill the thread.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Fail(e, batch);
            }
            Recycle(batch);
        }
    }

    /// <summary>Counts <paramref name="acknowledged"/> waiters as returning, and restarts the fill window.</summary>
    private void ExpectReturningWaiters(int acknowledged)
    {
        lock (_gate)
        {
            Volatile.Write(ref _returning, _returning + acknowledged);
            Volatile.Write(ref _fillDeadline, Stopwatch.GetTimestamp() + FillWindow);
        }
    }

    /// <summary>Waiters a pending batch needs before the committer takes it: the returning ones (at least one).</summary>
    private int TakeThreshold() => Math.Max(1, Volatile.Read(ref _returning));

    /// <summary>True if a batch with <paramref name="waiters"/> waiters is ready to take.</summary>
    private bool ReadyToTake(int waiters) =>
        waiters > 0 && (waiters >= TakeThreshold() || Stopwatch.GetTimestamp() >= Volatile.Read(ref _fillDeadline));

    /// <summary>
    /// Waits until a pending batch is ready to take (true), or the committer is closing with nothing pending
    /// (false; a pending batch is taken at once when closing). Polls until <paramref name="spinUntil"/>, then
    /// blocks.
    /// </summary>
    private bool WaitForWork(long spinUntil)
    {
        var spinner = default(SpinWait);
        while (Stopwatch.GetTimestamp() < spinUntil)
        {
            if (ReadyToTake(_pendingWaiters))
                return true;
            spinner.SpinOnce(sleep1Threshold: -1);
        }
        lock (_gate)
        {
            while (true)
            {
                if (_closing)
                    return !_pending.IsEmpty;
                if (_pending.Waiters == 0)
                {
                    // Nothing, or only records nobody waits for (a commit-only hard state): they go with the
                    // next batch somebody waits for, whose first commit pulses.
                    Monitor.Wait(_gate);
                }
                else if (ReadyToTake(_pending.Waiters))
                {
                    return true;
                }
                else
                {
                    // Woken by the commit that reaches the threshold, or after 1 ms to check the deadline.
                    Monitor.Wait(_gate, 1);
                }
            }
        }
    }

    /// <summary>Takes the pending batch, or null if there is none.</summary>
    private CommitBatch? TakePending()
    {
        lock (_gate)
        {
            if (_pending.IsEmpty)
                return null;
            var batch = _pending;
            batch.Close();
            _pending = _free.TryPop(out var spare) ? spare : new CommitBatch();
            _pendingWaiters = 0;
            // Those in the batch have returned; after the deadline, stop expecting the rest.
            var returning = Stopwatch.GetTimestamp() >= _fillDeadline ? 0 : Math.Max(0, _returning - batch.Waiters);
            Volatile.Write(ref _returning, returning);
            _newestTaken = batch.Done.Task;
            return batch;
        }
    }

    /// <summary>Writes the batch, starting new segments as its parts require.</summary>
    private void Write(CommitBatch batch)
    {
        ThrowIfFailed();
        foreach (var (segment, start, end) in batch.Parts)
        {
            if (!ReferenceEquals(segment, _writer.Segment))
                StartSegment(segment);
            _writer.WriteBatch(batch.PartBytes(start, end));
        }
    }

    /// <summary>Seals the current segment and creates <paramref name="segment"/>.</summary>
    private void StartSegment(Segment segment)
    {
        // Seal the old segment before the new one exists, so only the last segment can have a torn tail or
        // reserved zeros at its end.
        if (_writer.Seal())
            Interlocked.Increment(ref _fsyncs);
        _writer.Dispose();
        _writer = SegmentWriter.Create(_fs, segment, _reserve);
        _configureWriter?.Invoke(_writer);
        // The new file's directory entry must be durable before anything in it is acknowledged.
        _fs.SyncDirectory(_walDir);
    }

    /// <summary>Poisons the committer: <paramref name="batch"/>, the pending batch and every later one fail.</summary>
    private void Fail(Exception e, CommitBatch batch)
    {
        Interlocked.CompareExchange(ref _failure, new StorageFailedException(Describe(e), e), null);
        var failure = Failure!;
        batch.Done.TrySetException(failure);
        lock (_gate)
        {
            // Everything queued after the failure fails too.
            _pending.Done.TrySetException(failure);
        }
    }

    /// <summary>Returns a batch whose waiters have their answer to the pool.</summary>
    private void Recycle(CommitBatch batch)
    {
        batch.Reset();
        lock (_gate)
            _free.Push(batch);
    }

    private string Describe(Exception e)
    {
        const int ENOSPC = 28, ERROR_DISK_FULL = 112;
        var path = _writer.Segment.Path;
        var code = e.HResult & 0xFFFF;
        var full = code is ENOSPC or ERROR_DISK_FULL || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);
        return full
            ? $"disk full while appending to {path}: {e.Message}"
            : $"writing {path} failed: {e.Message}";
    }

    /// <summary>Writes and syncs what is queued, stops the committer thread and closes the segment.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _closing = true;
            Monitor.PulseAll(_gate);
        }
        _thread.Join();
        _writer.Dispose();
    }
}

