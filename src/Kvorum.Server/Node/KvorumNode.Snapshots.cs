using Google.Protobuf;
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

    // The snapshot being written in the background, if any; completes (never faults) when it is done.
    private Task _snapshotWriting = Task.CompletedTask;
    private bool _snapshotInFlight;

    // After a failed snapshot, no new attempt before this applied index.
    private ulong _snapshotRetryIndex;

    /// <summary>Completes when no snapshot is being written in the background.</summary>
    private Task SnapshotWritten => _snapshotWriting;

    /// <summary>
    /// Starts a snapshot once <see cref="ServerOptions.SnapshotCount"/> entries were applied since the last one.
    /// The loop only copies references to the state (immutable versions, in key order); encoding, writing and
    /// fsyncing the file run on the thread pool, and the loop then makes it current and compacts the log
    /// (<see cref="CommitSnapshot"/>), since the core reads the log between its calls.
    /// </summary>
    private void MaybeSnapshot()
    {
        if (_snapshotInFlight || _appliedIndex < _lastSnapshotIndex + _options.SnapshotCount || _appliedIndex < _snapshotRetryIndex)
            return;
        var index = _appliedIndex;
        var confState = _raft.ConfStateAt(index);
        var encode = CaptureStateMachine();
        _snapshotInFlight = true;
        _snapshotWriting = Task.Run(() =>
        {
            try
            {
                var data = encode();
                var prepared = _storage.PrepareSnapshot(index, confState, data);
                Post(() => CommitSnapshot(prepared, data.Length));
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
                });
            }
        });
    }

    /// <summary>On the loop: makes a snapshot written in the background current and compacts the log.</summary>
    private void CommitSnapshot(PreparedSnapshot? prepared, int bytes)
    {
        _snapshotInFlight = false;
        if (prepared is null || !_storage.CommitSnapshot(prepared))
            return; // the log already has a newer snapshot (one installed from the leader meanwhile)
        _lastSnapshotIndex = Math.Max(_lastSnapshotIndex, prepared.Index);
        Interlocked.Increment(ref Metrics.SnapshotsTaken);
        LogSnapshotTaken(_log, prepared.Index, bytes);
    }

    /// <summary>Copies what a snapshot holds, on the loop; the function returned encodes it on any thread.</summary>
    private Func<byte[]> CaptureStateMachine()
    {
        var mvcc = FrozenStore.Of(_mvcc);
        var members = _members.All.Select(m => m.Clone()).ToArray();
        var clusterId = ClusterId;
        return () =>
        {
            using var buffer = new MemoryStream();
            MvccSnapshot.Write(mvcc, buffer);
            var snapshot = new NodeSnapshot
            {
                Mvcc = UnsafeByteOperations.UnsafeWrap(buffer.GetBuffer().AsMemory(0, (int)buffer.Length)),
                ClusterId = clusterId,
            };
            snapshot.Members.AddRange(members);
            return snapshot.ToByteArray();
        };
    }

    private void InstallSnapshot(SnapshotMetadata snap)
    {
        if (!_receivedSnapshots.TryGetValue(snap.Index, out var data))
            throw new InvalidOperationException($"told to install snapshot {snap.Index} that never arrived");
        _receivedSnapshots.Clear();
        _storage.ApplySnapshot(snap, data);
        RestoreStateMachine(data.Span);
        _appliedIndex = snap.Index;
        _lastSnapshotIndex = snap.Index;
        LogSnapshotInstalled(_log, snap.Index);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "installed snapshot at index {Index}")]
    private static partial void LogSnapshotInstalled(ILogger log, ulong index);

    [LoggerMessage(Level = LogLevel.Information, Message = "took snapshot at index {Index} ({Bytes} bytes)")]
    private static partial void LogSnapshotTaken(ILogger log, ulong index, int bytes);

    [LoggerMessage(Level = LogLevel.Error, Message = "snapshot at index {Index} failed; the log is kept and a snapshot will be tried again")]
    private static partial void LogSnapshotFailed(ILogger log, ulong index, Exception e);
}
