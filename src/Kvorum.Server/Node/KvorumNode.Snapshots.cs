using System.Diagnostics;
using Kvorum.Raft;
using Microsoft.Extensions.Logging;

namespace Kvorum.Server.Node;

/// <summary>
/// Snapshots of the state machine: taken when <see cref="SnapshotSchedule"/> says, without stopping the loop for
/// long, and installed when a leader sends one.
/// </summary>
internal sealed partial class KvorumNode
{
    // The snapshot being written in the background, if any; completes (never faults) when it is done.
    private Task _snapshotWriting = Task.CompletedTask;

    /// <summary>
    /// Makes a written snapshot current when it is due, and starts a snapshot when one is due (<see cref="SnapshotSchedule"/>).
    /// The loop only copies references to the state (immutable versions, in key order); <see cref="SnapshotWriter"/>
    /// writes the file in the background, and the loop then makes it current and compacts the log (<see cref="CommitSnapshot"/>).
    /// </summary>
    private void MaybeSnapshot()
    {
        CommitWrittenSnapshotWhenDue();
        if (!_snapshots.IsDue(_state.AppliedIndex))
            return;
        var index = _state.AppliedIndex;
        var pending = _snapshots.Started();
        _snapshotWriting = SnapshotWriter.Start(_storage, index, _raft.ConfStateAt(index), CaptureStateMachine(),
            written => Post(() =>
            {
                _snapshots.Written(written);
                CommitWrittenSnapshotWhenDue();
            }),
            e =>
            {
                LogSnapshotFailed(_log, index, e);
                Post(() => _snapshots.Failed(_state.AppliedIndex, pending));
            });
    }

    /// <summary>Makes the written snapshot current once <see cref="SnapshotSchedule.TakeIfDue"/> gives it.</summary>
    private void CommitWrittenSnapshotWhenDue()
    {
        if (_snapshots.TakeIfDue(_state.AppliedIndex) is { } written)
            CommitSnapshot(written);
    }

    /// <summary>On the loop: makes a snapshot written in the background current and compacts the log.</summary>
    private void CommitSnapshot(WrittenSnapshot written)
    {
        var prepared = written.Prepared;
        var committed = prepared is not null && _storage.CommitSnapshot(prepared);
        _snapshots.Finished(committed ? prepared!.Index : null, written.Bytes);
        if (!committed)
            return; // the log already has a newer snapshot (one installed from the leader meanwhile)
        Interlocked.Increment(ref Metrics.SnapshotsTaken);
        LogSnapshotTaken(_log, prepared!.Index, written.Bytes, (long)written.Took.TotalMilliseconds);
    }

    /// <summary>Copies what a snapshot or a backup holds (<see cref="StateMachine.Capture"/>), on the loop.</summary>
    private Action<Stream> CaptureStateMachine() => _state.Capture(ClusterId);

    /// <summary>Replaces the state machine with the current snapshot in storage, read from its file.</summary>
    private void RestoreStateMachineFromStorage()
    {
        using var data = _storage.OpenSnapshot(out var metadata);
        _snapshots.Restored(metadata.Index, data.Length);
        _watchers.BeforeRestore();
        _state.Restore(data, new AppliedPosition(metadata.Index, metadata.Term), $"the snapshot at index {metadata.Index} in {_options.DataDir}");
        _quota.PublishStoreSize(_state.Store.SizeBytes);
        foreach (var (id, urls) in _state.Members.Peers(MemberId))
            _transport?.SetPeer(id, urls);
    }

    /// <summary>Installs the leader's snapshot the core asks for, which arrived earlier (<see cref="OnSnapshot"/>).</summary>
    private void InstallSnapshot(SnapshotMetadata snap)
    {
        using (var received = _receivedSnapshots.Take(snap.Index))
            received.Commit();
        RestoreStateMachineFromStorage();
        Debug.Assert(_state.AppliedIndex == snap.Index, "the storage's snapshot is not the one installed");
        LogSnapshotInstalled(_log, snap.Index);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "installed snapshot at index {Index}")]
    private static partial void LogSnapshotInstalled(ILogger log, ulong index);

    [LoggerMessage(Level = LogLevel.Information, Message = "took snapshot at index {Index} ({Bytes} bytes, written in {Milliseconds} ms)")]
    private static partial void LogSnapshotTaken(ILogger log, ulong index, long bytes, long milliseconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "snapshot at index {Index} failed; the log is kept and a snapshot will be tried again")]
    private static partial void LogSnapshotFailed(ILogger log, ulong index, Exception e);
}
