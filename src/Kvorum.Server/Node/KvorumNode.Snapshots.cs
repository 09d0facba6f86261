using System.Diagnostics;
using Kvorum.Raft;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node.Wire;
using Kvorum.Storage;
using Microsoft.Extensions.Logging;

namespace Kvorum.Server.Node;

/// <summary>
/// Snapshots of the state machine: taken every <see cref="ServerOptions.SnapshotCount"/> applied entries
/// without stopping the loop for long, and installed when a leader sends one.
/// </summary>
public sealed partial class KvorumNode
{
    private ulong _lastSnapshotIndex;

    /// <summary>
    /// A snapshot waits until the entries applied since the last one add up to at least this share of that
    /// snapshot's size (Raft thesis §5.1.3): writing snapshots then costs at most 1 / share bytes per byte of
    /// log, however large the state grows. By entry count alone, a state of a few hundred MB would be written
    /// out again every <see cref="ServerOptions.SnapshotCount"/> entries, a cost that grows with the state.
    /// The log kept in the meantime is at most this share of the state's size; for puts that costs little memory,
    /// since a put's value in the store is a view into its entry's payload (<see cref="PutValueSharing"/>).
    /// A half, not a quarter: at a quarter, the thread writing snapshots took 10% of a follower's CPU under puts
    /// at 64 clients (a profile of 2026-11-26), the state being rewritten four times per byte of log.
    /// </summary>
    internal const double SnapshotLogShare = 0.5;

    // Size of the current snapshot's file, and bytes of entries applied since it was taken: those before the
    // snapshot being written, if one is (_bytesPendingSnapshot), and those after (_appliedBytesSinceSnapshot).
    // Loop thread only.
    private long _lastSnapshotBytes;
    private long _bytesPendingSnapshot;
    private long _appliedBytesSinceSnapshot;

    // Their sum, published by the loop whenever one changes (PublishBytesInUse) for StorageSizes on other threads:
    // reading the three there could mix values from before and after a snapshot is committed (seen: 427 KB
    // reported for a state of 600 KB, the old snapshot's size beside the new one's empty pending count).
    private long _bytesInUse;

    private void PublishBytesInUse() =>
        Volatile.Write(ref _bytesInUse, _lastSnapshotBytes + _bytesPendingSnapshot + _appliedBytesSinceSnapshot);

    /// <summary>
    /// What Maintenance.Status reports as etcd's <c>db_size</c> and <c>db_size_in_use</c>. Kvorum has no database
    /// file: the first is every file in the data directory (WAL segments, preallocated, and snapshots); the second
    /// is what of it a restart needs, the current snapshot's size plus the bytes of the entries applied since.
    /// </summary>
    /// <returns>Both sizes in bytes.</returns>
    public (long OnDisk, long InUse) StorageSizes()
    {
        long onDisk = 0;
        try
        {
            foreach (var file in new DirectoryInfo(_options.DataDir).EnumerateFiles("*", SearchOption.AllDirectories))
            {
                try
                {
                    if (!file.Name.StartsWith(BackupFilePrefix, StringComparison.Ordinal))
                        onDisk += file.Length; // a backup being sent is not the member's storage
                }
                catch (FileNotFoundException)
                {
                    // Removed since it was listed (a compacted segment, an old snapshot).
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The directory cannot be listed just now; report what was counted.
        }
        return (onDisk, Volatile.Read(ref _bytesInUse));
    }

    // The snapshot being written in the background, if any; completes (never faults) when it is done.
    private Task _snapshotWriting = Task.CompletedTask;
    private bool _snapshotInFlight;

    // After a failed snapshot, no new attempt before this applied index.
    private ulong _snapshotRetryIndex;

    /// <summary>
    /// Starts a snapshot once <see cref="ServerOptions.SnapshotCount"/> entries were applied since the last one,
    /// and their bytes reach <see cref="SnapshotLogShare"/> of the last snapshot's size.
    /// The loop only copies references to the state (immutable versions, in key order); encoding, writing and
    /// fsyncing the file run on a thread of lower priority, and the loop then makes it current and compacts the log
    /// (<see cref="CommitSnapshot"/>), since the core reads the log between its calls.
    /// </summary>
    private void MaybeSnapshot()
    {
        CommitWrittenSnapshotWhenDue();
        if (_snapshotInFlight || _appliedIndex < _lastSnapshotIndex + _options.SnapshotCount || _appliedIndex < _snapshotRetryIndex
            || _appliedBytesSinceSnapshot < _lastSnapshotBytes * SnapshotLogShare)
            return;
        var index = _appliedIndex;
        var appliedBytes = _appliedBytesSinceSnapshot;
        _bytesPendingSnapshot = appliedBytes;
        _appliedBytesSinceSnapshot = 0; // what is applied from now on counts towards the next one
        PublishBytesInUse();
        var confState = _raft.ConfStateAt(index);
        var write = CaptureStateMachine();
        _snapshotInFlight = true;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _snapshotWriting = done.Task;
        // A thread of its own at a lower priority (see BackgroundPriority): requests go first.
        var started = Stopwatch.GetTimestamp();
        var thread = new Thread(() =>
        {
            BackgroundPriority.LowerCurrentThread();
            try
            {
                long bytes = 0;
                var prepared = _storage.PrepareSnapshot(index, confState, stream =>
                {
                    write(stream);
                    bytes = stream.Length;
                });
                var took = Stopwatch.GetElapsedTime(started);
                Post(() =>
                {
                    _snapshotWritten = (prepared, bytes, took);
                    CommitWrittenSnapshotWhenDue();
                });
            }
#pragma warning disable CA1031 // A failed snapshot is logged and retried later; the log just stays longer.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogSnapshotFailed(_log, index, e);
                Post(() =>
                {
                    _snapshotInFlight = false;
                    _snapshotRetryIndex = _appliedIndex + _options.SnapshotCount;
                    _appliedBytesSinceSnapshot += appliedBytes;
                    _bytesPendingSnapshot = 0;
                    PublishBytesInUse();
                });
            }
            finally
            {
                done.SetResult();
            }
        })
        {
            IsBackground = true,
            Name = "kvorum-snapshot",
        };
        thread.Start();
    }

    // A snapshot written and durable, waiting to be made current (see CommitWrittenSnapshotWhenDue). Loop thread only.
    private (PreparedSnapshot? Prepared, long Bytes, TimeSpan Took)? _snapshotWritten;

    /// <summary>
    /// Makes the written snapshot current once <see cref="ServerOptions.SnapshotCatchUpEntries"/> entries have been
    /// applied after it. Committing compacts the log up to the snapshot, so the log then still holds at least that many
    /// entries behind the applied index, for followers that fell a little behind. Until then no other snapshot starts.
    /// </summary>
    private void CommitWrittenSnapshotWhenDue()
    {
        if (_snapshotWritten is not { } written)
            return;
        if (written.Prepared is { } prepared && _appliedIndex < prepared.Index + _options.SnapshotCatchUpEntries)
            return;
        _snapshotWritten = null;
        CommitSnapshot(written.Prepared, written.Bytes, written.Took);
    }

    /// <summary>On the loop: makes a snapshot written in the background current and compacts the log.</summary>
    private void CommitSnapshot(PreparedSnapshot? prepared, long bytes, TimeSpan took)
    {
        _snapshotInFlight = false;
        _bytesPendingSnapshot = 0;
        var committed = prepared is not null && _storage.CommitSnapshot(prepared);
        if (committed)
        {
            _lastSnapshotIndex = Math.Max(_lastSnapshotIndex, prepared!.Index);
            _lastSnapshotBytes = bytes;
        }
        PublishBytesInUse();
        if (!committed)
            return; // the log already has a newer snapshot (one installed from the leader meanwhile)
        Interlocked.Increment(ref Metrics.SnapshotsTaken);
        LogSnapshotTaken(_log, prepared!.Index, bytes, (long)took.TotalMilliseconds);
    }

    /// <summary>
    /// Copies what a snapshot holds, on the loop; the action returned writes it (<see cref="NodeSnapshotFormat"/>)
    /// to a stream on any thread.
    /// </summary>
    private Action<Stream> CaptureStateMachine()
    {
        var mvcc = FrozenStore.Of(_mvcc);
        var members = _members.All.Select(m => m.Clone()).ToArray();
        var clusterId = ClusterId;
        var position = new AppliedPosition(_appliedIndex, _appliedTerm);
        return stream => NodeSnapshotFormat.Write(stream, mvcc, members, clusterId, position);
    }

    /// <summary>Replaces the state machine with the current snapshot in storage, read from its file.</summary>
    private void RestoreStateMachineFromStorage()
    {
        using var data = _storage.OpenSnapshot(out var metadata);
        _lastSnapshotBytes = data.Length;
        _bytesPendingSnapshot = 0;
        _appliedBytesSinceSnapshot = 0;
        PublishBytesInUse();
        // Buffered: the format is read a field at a time, and each read of the storage's stream is a system call
        // (a 210 MB state took 5.1 s to load unbuffered, most of it in one- and eight-byte preads).
        using var buffered = new BufferedStream(data, 1 << 20);
        var (members, position) = NodeSnapshotFormat.Read(buffered, _mvcc);
        NodeSnapshotFormat.CheckPosition(position, new AppliedPosition(metadata.Index, metadata.Term), $"the snapshot at index {metadata.Index} in {_options.DataDir}");
        _appliedIndex = metadata.Index;
        _appliedTerm = metadata.Term;
        PublishStoreSize();
        _members.Clear();
        foreach (var m in members)
            _members.Upsert(m);
        foreach (var (id, urls) in _members.Peers(MemberId))
            _transport?.SetPeer(id, urls);
    }

    /// <summary>A leader's snapshot that arrived complete (written to a file as it came): keep it until the core installs it.</summary>
    private void OnSnapshotReceived(SnapshotReceiver received)
    {
        if (_receivedSnapshots.Remove(received.Index, out var older))
            older.Dispose();
        _receivedSnapshots[received.Index] = received;
        // Only the newest few can still be installed; drop files the core will never ask for.
        while (_receivedSnapshots.Count > 2)
        {
            var oldest = _receivedSnapshots.Keys.Min();
            _receivedSnapshots.Remove(oldest, out var dropped);
            dropped!.Dispose();
        }
    }

    private void InstallSnapshot(SnapshotMetadata snap)
    {
        if (!_receivedSnapshots.Remove(snap.Index, out var received))
            throw new InvalidOperationException($"told to install snapshot {snap.Index} that never arrived");
        foreach (var other in _receivedSnapshots.Values)
            other.Dispose();
        _receivedSnapshots.Clear();
        using (received)
            received.Commit();
        RestoreStateMachineFromStorage();
        _appliedIndex = snap.Index;
        _lastSnapshotIndex = snap.Index;
        LogSnapshotInstalled(_log, snap.Index);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "installed snapshot at index {Index}")]
    private static partial void LogSnapshotInstalled(ILogger log, ulong index);

    [LoggerMessage(Level = LogLevel.Information, Message = "took snapshot at index {Index} ({Bytes} bytes, written in {Milliseconds} ms)")]
    private static partial void LogSnapshotTaken(ILogger log, ulong index, long bytes, long milliseconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "snapshot at index {Index} failed; the log is kept and a snapshot will be tried again")]
    private static partial void LogSnapshotFailed(ILogger log, ulong index, Exception e);
}
