using System.Diagnostics;

namespace Kvorum.Storage;

/// <summary>
/// Group commit with pipelined fsyncs: callers queue records into a pending batch under the storage's lock
/// and wait on its task; lane threads take pending batches, write them in order, and fsync them, up to one
/// fsync per lane at a time, so a batch can be written and synced while an earlier batch's fsync still runs.
/// </summary>
/// <remarks>
/// <para>Why: a writer appends again only once its previous append is acknowledged. With one fsync at a time
/// and the next batch taken as soon as the fsync returns, many writers split into two groups taking turns,
/// each batch holding about half of them. Here a lane first lets the writers it has just acknowledged append
/// again (see <c>_returning</c>), and with two or more lanes the writers settle into groups that append while
/// another group's fsync runs; Linux lets fsyncs of one file overlap (the journal commits them together).</para>
/// <para>Locking: the storage's lock (<c>gate</c>) guards the pending batch; methods named <c>...Locked</c>
/// expect it held. <c>_writeTurn</c> is held by the one lane that takes a batch and writes it, so batches are
/// numbered and written in the order they were queued and the file is always a prefix of the queued stream.
/// Lanes fsync without either lock. Lock order: <c>_writeTurn</c>, then <c>gate</c>.</para>
/// <para>Framing: each batch's records for a segment are written with a <see cref="BatchFrame"/> footer, so
/// that recovery keeps or drops a batch whole.</para>
/// <para>Durability: a batch's task completes only after an fsync that started after the batch (and so every
/// earlier batch) was written has returned, and after the directory entry of any segment it created was
/// flushed; tasks complete in batch order (see <see cref="WrittenBatches"/>).</para>
/// <para>Failure: the first write or fsync error poisons the committer; every batch not yet acknowledged,
/// and every later one, fails with <see cref="StorageFailedException"/>.</para>
/// </remarks>
internal sealed class GroupCommitter : IDisposable
{
    // How long a lane that has just acknowledged a batch polls for the next append before it blocks. An
    // acknowledged writer (a single one, typically) appends again a few tens of microseconds later; finding that
    // append by polling spares it a thread wake-up on its way to the disk. 50 µs is a fraction of one fsync.
    private static readonly long SpinAfterAcknowledge = Stopwatch.Frequency / 20_000;

    // How long a lane may hold back a pending batch for the waiters it has just acknowledged to append again
    // (see _returning). Monitor.Wait counts whole milliseconds, so a shorter window would not be kept anyway.
    private static readonly long FillWindow = Stopwatch.Frequency / 1_000;

    private readonly object _gate;
    private readonly object _writeTurn = new();
    private readonly object _syncCount = new();
    private readonly IFileSystem _fs;
    private readonly string _walDir;
    private readonly Thread[] _lanes;
    private readonly Action<SegmentWriter>? _configureWriter;
    private readonly long _reserve;
    private readonly WrittenBatches _written = new();

    // Under _gate.
    private readonly Stack<CommitBatch> _free = new();
    private CommitBatch _pending = new();
    private Task _newestTaken = Task.CompletedTask;
    private long _taken;
    private bool _closing;

    // Filling the next batch: a writer appends again as soon as its previous append is acknowledged. If a lane
    // took the pending batch right after an acknowledgement, the writers just acknowledged would miss it and
    // wait a whole fsync for the one after, and the writers would settle into two groups taking turns, each
    // batch holding about half of them. So acknowledged waiters are counted as returning (_returning), and a
    // pending batch is taken once it holds that many waiters (see TakeThreshold), or at _fillDeadline
    // (FillWindow after the last acknowledgement) if some do not come back. Written under _gate; lanes read
    // them without the lock.
    private int _returning;
    private long _fillDeadline;

    // _pending.Waiters, for lanes that poll without the lock. Written under _gate.
    private volatile int _pendingWaiters;

    // Under _writeTurn; replaced only while no lane is syncing it.
    private SegmentWriter _writer;

    // fsyncs running on lanes. Written under _syncCount; read without it.
    private int _syncsInFlight;

    private Exception? _failure;
    private long _fsyncs;
    private long _batches;

    /// <summary>
    /// Starts <paramref name="lanes"/> lane threads, appending to <paramref name="writer"/> first; segments it
    /// starts get <paramref name="reserve"/> bytes reserved (0: none).
    /// </summary>
    public GroupCommitter(object gate, IFileSystem fs, string walDir, SegmentWriter writer, int lanes, long reserve, Action<SegmentWriter>? configureWriter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lanes, 1);
        _gate = gate;
        _fs = fs;
        _walDir = walDir;
        _writer = writer;
        _reserve = reserve;
        _configureWriter = configureWriter;
        _configureWriter?.Invoke(writer);
        try
        {
            writer.OpenSyncLanes(lanes);
        }
        catch
        {
            writer.Dispose();
            throw;
        }
        _lanes = new Thread[lanes];
        for (var i = 0; i < lanes; i++)
        {
            _lanes[i] = new Thread(RunLane) { IsBackground = true, Name = $"Kvorum WAL lane {i}" };
            _lanes[i].Start(i);
        }
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
    /// A task that completes once everything queued so far is durable, and wakes a lane: the pending batch's
    /// task, or if nothing is pending, the task of the newest batch taken (tasks complete in batch order).
    /// Caller holds the lock.
    /// </summary>
    public Task CommitLocked()
    {
        Debug.Assert(Monitor.IsEntered(_gate));
        ThrowIfFailed();
        if (_pending.IsEmpty)
            return _newestTaken;
        _pendingWaiters = ++_pending.Waiters;
        // Wake a lane that blocks: it waits for the first commit of a batch, then for enough of them to take it.
        // (Pulse is cheap when no lane waits.)
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

    private void RunLane(object? laneNumber)
    {
        var lane = (int)laneNumber!;
        long spinUntil = 0;
        while (WaitForWork(spinUntil))
        {
            CommitBatch? batch;
            SegmentWriter? writer = null;
            long end = 0;
            lock (_writeTurn)
            {
                batch = TakePending();
                if (batch is null)
                    continue; // another lane took it
                try
                {
                    (writer, end) = Write(batch);
                    lock (_syncCount)
                        _syncsInFlight++;
                }
#pragma warning disable CA1031 // Any failure must reach the waiting appenders rather than kill the thread.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    Fail(e);
                }
            }

            if (writer is not null)
            {
                try
                {
                    if (writer.Sync(lane, end))
                        Interlocked.Increment(ref _fsyncs);
                    var (batches, waiters) = _written.AcknowledgeThrough(batch.Sequence);
                    Interlocked.Add(ref _batches, batches);
                    if (waiters > 0)
                        ExpectReturningWaiters(waiters);
                }
#pragma warning disable CA1031 // As above.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    Fail(e);
                }
                finally
                {
                    lock (_syncCount)
                    {
                        if (--_syncsInFlight == 0)
                            Monitor.PulseAll(_syncCount);
                    }
                }
                spinUntil = Stopwatch.GetTimestamp() + SpinAfterAcknowledge;
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

    /// <summary>
    /// Waiters a pending batch needs before a lane takes it: the returning ones, or if other lanes are free
    /// and no fsync is running, half of them. Then the first half is synced while the second half is still
    /// appending, the second half becomes the next batch, and from then on the writers form two groups whose
    /// fsyncs overlap, each group appending while the other's fsync runs. With one lane that split would only
    /// bring back alternating half batches, so it waits for all.
    /// </summary>
    private int TakeThreshold()
    {
        var returning = Math.Max(1, Volatile.Read(ref _returning));
        return _lanes.Length > 1 && Volatile.Read(ref _syncsInFlight) == 0 ? (returning + 1) / 2 : returning;
    }

    /// <summary>True if a batch with <paramref name="waiters"/> waiters is ready for a lane to take.</summary>
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

    /// <summary>Takes the pending batch (null if there is none) and numbers it. Caller holds <c>_writeTurn</c>.</summary>
    private CommitBatch? TakePending()
    {
        Debug.Assert(Monitor.IsEntered(_writeTurn));
        CommitBatch batch;
        lock (_gate)
        {
            if (_pending.IsEmpty)
                return null;
            batch = _pending;
            batch.Close();
            _pending = _free.TryPop(out var spare) ? spare : new CommitBatch();
            _pendingWaiters = 0;
            // Those in the batch have returned; after the deadline, stop expecting the rest.
            var returning = Stopwatch.GetTimestamp() >= _fillDeadline ? 0 : Math.Max(0, _returning - batch.Waiters);
            Volatile.Write(ref _returning, returning);
            batch.Sequence = ++_taken;
            _newestTaken = batch.Done.Task;
        }
        _written.Add(batch);
        return batch;
    }

    /// <summary>
    /// Writes the batch, starting new segments as its parts require, and returns the writer and length that an
    /// fsync must cover to make it durable. Caller holds <c>_writeTurn</c>.
    /// </summary>
    private (SegmentWriter Writer, long End) Write(CommitBatch batch)
    {
        Debug.Assert(Monitor.IsEntered(_writeTurn));
        ThrowIfFailed();
        foreach (var (segment, start, end) in batch.Parts)
        {
            if (!ReferenceEquals(segment, _writer.Segment))
                StartSegment(segment);
            _writer.WriteBatch(batch.PartBytes(start, end));
        }
        return (_writer, _writer.Length);
    }

    /// <summary>Seals the current segment and creates <paramref name="segment"/>. Caller holds <c>_writeTurn</c>.</summary>
    private void StartSegment(Segment segment)
    {
        // The old writer is closed below, so no lane may still be syncing through it.
        lock (_syncCount)
        {
            while (_syncsInFlight > 0)
                Monitor.Wait(_syncCount);
        }
        // Seal the old segment before the new one exists, so only the last segment can have a torn tail or
        // reserved zeros at its end.
        if (_writer.Seal())
            Interlocked.Increment(ref _fsyncs);
        _writer.Dispose();
        _writer = SegmentWriter.Create(_fs, segment, _reserve);
        _configureWriter?.Invoke(_writer);
        _writer.OpenSyncLanes(_lanes.Length);
        // The new file's directory entry must be durable before anything in it is acknowledged.
        _fs.SyncDirectory(_walDir);
    }

    private void Fail(Exception e)
    {
        Interlocked.CompareExchange(ref _failure, new StorageFailedException(Describe(e), e), null);
        var failure = Failure!;
        _written.Fail(failure);
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
        var path = Volatile.Read(ref _writer).Segment.Path;
        var code = e.HResult & 0xFFFF;
        var full = code is ENOSPC or ERROR_DISK_FULL || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);
        return full
            ? $"disk full while appending to {path}: {e.Message}"
            : $"writing {path} failed: {e.Message}";
    }

    /// <summary>Writes and syncs what is queued, stops the lanes and closes the segment.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _closing = true;
            Monitor.PulseAll(_gate);
        }
        foreach (var lane in _lanes)
            lane.Join();
        _writer.Dispose();
    }
}

