using System.Diagnostics;

namespace Kvorum.Storage;

/// <summary>
/// Group commit: a dedicated thread writes everything queued since its last flush and then fsyncs once,
/// so appends that arrive while a flush is in progress share the next one. Callers queue records under the
/// storage's lock and wait on the batch's task.
/// </summary>
/// <remarks>
/// <para>Locking: the committer shares the storage's lock (<c>gate</c>). Methods named <c>...Locked</c> expect it
/// held. The flusher thread takes it only to swap the pending batch for an empty one; it writes and flushes
/// without it, so appends continue into the next batch meanwhile.</para>
/// <para>Ordering: batches are written in the order they were queued, and within a batch bytes are written in
/// queue order, so the file is always a prefix of the queued stream. A batch's task completes only after its
/// bytes and every earlier batch's bytes are fsynced (and, for a new segment, the directory too).</para>
/// <para>Failure: the first write or flush error poisons the committer; that batch and every later one fail
/// with <see cref="StorageFailedException"/>.</para>
/// </remarks>
internal sealed class GroupCommitter : IDisposable
{
    private readonly object _gate;
    private readonly string _walDir;
    private readonly Thread _thread;
    private readonly Action<SegmentWriter>? _configureWriter;
    private CommitBatch _pending = new();
    private CommitBatch _spare = new();
    private SegmentWriter _writer;
    private bool _closing;

    // Task of the batch the flusher is writing, or null. Under _gate.
    private Task? _inFlight;
    private Exception? _failure;
    private long _fsyncs;
    private long _batches;

    /// <summary>Starts the flusher thread, appending to <paramref name="writer"/> first.</summary>
    public GroupCommitter(object gate, string walDir, SegmentWriter writer, Action<SegmentWriter>? configureWriter)
    {
        _gate = gate;
        _walDir = walDir;
        _writer = writer;
        _configureWriter = configureWriter;
        _configureWriter?.Invoke(writer);
        _thread = new Thread(Run) { IsBackground = true, Name = "Kvorum WAL group commit" };
        _thread.Start();
    }

    /// <summary>The error that stopped the committer, or null.</summary>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>fsyncs of segment files so far.</summary>
    public long Fsyncs => Interlocked.Read(ref _fsyncs);

    /// <summary>Batches written so far.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Reserves space for a record in the pending batch. Caller holds the lock and fills the span before releasing it.</summary>
    public Span<byte> ReserveLocked(Segment segment, int size)
    {
        Debug.Assert(Monitor.IsEntered(_gate));
        ThrowIfFailed();
        return _pending.Reserve(segment, size);
    }

    /// <summary>
    /// A task that completes once everything queued so far is durable, and wakes the flusher: the pending
    /// batch's task, or if nothing is pending, the task of the batch being written (if any).
    /// Caller holds the lock.
    /// </summary>
    public Task CommitLocked()
    {
        Debug.Assert(Monitor.IsEntered(_gate));
        ThrowIfFailed();
        if (_pending.IsEmpty)
            return _inFlight ?? Task.CompletedTask;
        Monitor.Pulse(_gate);
        return _pending.Done.Task;
    }

    /// <summary>Throws if the committer has failed.</summary>
    public void ThrowIfFailed()
    {
        if (Failure is { } f)
            throw new StorageFailedException($"the WAL is unusable after an earlier failure: {f.Message}", f);
    }

    private void Run()
    {
        while (true)
        {
            CommitBatch batch;
            lock (_gate)
            {
                while (_pending.IsEmpty && !_closing)
                    Monitor.Wait(_gate);
                if (_pending.IsEmpty)
                    return;
                batch = _pending;
                _pending = _spare;
                _inFlight = batch.Done.Task;
            }

            try
            {
                WriteAndFlush(batch);
                Interlocked.Increment(ref _batches);
                batch.Done.TrySetResult();
            }
#pragma warning disable CA1031 // Any failure must reach the waiting appenders rather than kill the thread.
            catch (Exception e)
#pragma warning restore CA1031
            {
                var failure = Failure ?? new StorageFailedException(Describe(e), e);
                Volatile.Write(ref _failure, failure);
                batch.Done.TrySetException(failure);
                lock (_gate)
                {
                    // Everything queued after the failure fails too.
                    _pending.Done.TrySetException(failure);
                }
            }

            lock (_gate)
            {
                _inFlight = null;
                batch.Reset();
                _spare = batch;
            }
        }
    }

    private void WriteAndFlush(CommitBatch batch)
    {
        ThrowIfFailed();
        var createdSegment = false;
        foreach (var (segment, start, end) in batch.Parts)
        {
            if (!ReferenceEquals(segment, _writer.Segment))
            {
                // Seal the old segment before the new one exists, so only the last segment can have a torn tail.
                Flush();
                _writer.Dispose();
                _writer = SegmentWriter.Create(segment);
                _configureWriter?.Invoke(_writer);
                createdSegment = true;
            }
            _writer.Write(batch.Bytes[start..end]);
        }
        Flush();
        if (createdSegment)
            DirectorySync.Flush(_walDir);
    }

    private void Flush()
    {
        if (_writer.DurableLength == _writer.Length)
            return;
        _writer.Flush();
        Interlocked.Increment(ref _fsyncs);
    }

    private string Describe(Exception e)
    {
        const int ENOSPC = 28, ERROR_DISK_FULL = 112;
        var code = e.HResult & 0xFFFF;
        var full = code is ENOSPC or ERROR_DISK_FULL || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);
        return full
            ? $"disk full while appending to {_writer.Segment.Path}: {e.Message}"
            : $"writing {_writer.Segment.Path} failed: {e.Message}";
    }

    /// <summary>Writes what is queued, stops the thread and closes the segment.</summary>
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
