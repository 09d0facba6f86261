using Kvorum.Raft;

namespace Kvorum.Storage;

public sealed partial class DiskRaftStorage
{
    // Serializes snapshot installs and creations, so that file ids are recorded in order and compaction
    // never races another snapshot. Lock order: _snapshotLock, then _gate.
    private readonly object _snapshotLock = new();

    // Largest snapshot file id handed out; ids are never reused. Under _gate.
    private ulong _lastFileId;

    // Data of the current snapshot, loaded lazily. Under _gate.
    private ReadOnlyMemory<byte>? _snapshotData;

    /// <inheritdoc />
    public ReadOnlyMemory<byte> SnapshotData
    {
        get
        {
            SnapshotRef snapshot;
            lock (_gate)
            {
                if (_snapshotData is { } cached)
                    return cached;
                snapshot = _state.Snapshot;
            }
            var data = _snapshots.ReadAll(snapshot);
            lock (_gate)
            {
                if (ReferenceEquals(_state.Snapshot, snapshot))
                    _snapshotData = data;
            }
            return data;
        }
    }

    /// <summary>
    /// Opens the current snapshot's data for reading in chunks (for sending it to a follower). The stream
    /// stays valid even if a newer snapshot replaces this one meanwhile.
    /// </summary>
    public Stream OpenSnapshot(out SnapshotMetadata metadata)
    {
        SnapshotRef snapshot;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            snapshot = _state.Snapshot;
        }
        metadata = snapshot.Metadata;
        return snapshot.FileId == 0 ? new MemoryStream([], writable: false) : _snapshots.OpenData(snapshot);
    }

    /// <inheritdoc />
    public void CreateSnapshot(ulong index, ConfState confState, ReadOnlyMemory<byte> data)
    {
        ArgumentNullException.ThrowIfNull(confState);
        lock (_snapshotLock)
        {
            SnapshotRef snapshot;
            lock (_gate)
            {
                ThrowIfUnusableLocked();
                if (index <= _state.Snapshot.Index)
                    return;
                if (!_state.TryGetTerm(index, out var term))
                    throw new ArgumentOutOfRangeException(nameof(index), $"index {index} is past the last index {_state.LastIndex}");
                snapshot = new SnapshotRef(new SnapshotMetadata(index, term, confState), ++_lastFileId);
            }

            // 1. The file, durable under its final name. Until step 2 it is an orphan that open would delete.
            using (var writer = _snapshots.BeginWrite(snapshot))
            {
                writer.Write(data.Span);
                writer.Commit();
            }

            // 2. The WAL record that makes it current.
            Task durable;
            Segment holder;
            lock (_gate)
            {
                ThrowIfUnusableLocked();
                if (!_state.TryGetTerm(index, out var term) || term != snapshot.Metadata.Term || index <= _state.Snapshot.Index)
                {
                    File.Delete(_snapshots.PathOf(snapshot));
                    throw new InvalidOperationException($"the log changed at index {index} while its snapshot was being written");
                }
                WriteRecordLocked(RecordType.SnapshotCreated, 0, index, snapshot.Metadata.Term, PayloadCodec.EncodeSnapshot(snapshot));
                _state.CreateSnapshot(snapshot);
                _snapshotData = data.ToArray();
                holder = _segments[^1];
                durable = _committer.CommitLocked();
            }
            durable.GetAwaiter().GetResult();

            // 3. Only now is anything older removed.
            CompactAfterDurable(holder, logReplaced: false);
        }
    }

    /// <inheritdoc />
    public void ApplySnapshot(SnapshotMetadata metadata, ReadOnlyMemory<byte> data)
    {
        using var receiver = ReceiveSnapshot(metadata);
        receiver.Write(data.Span);
        receiver.Commit();
        lock (_gate)
        {
            if (_state.Snapshot.Metadata == metadata)
                _snapshotData = data.ToArray();
        }
    }

    /// <summary>
    /// Starts receiving a snapshot from a leader in chunks. Write the data to the returned receiver and call
    /// <see cref="SnapshotReceiver.Commit"/>, which does what <see cref="ApplySnapshot"/> does; disposing it
    /// uncommitted discards the partial file.
    /// </summary>
    /// <exception cref="InvalidOperationException">The snapshot is older than the current one.</exception>
    public SnapshotReceiver ReceiveSnapshot(SnapshotMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        SnapshotRef snapshot;
        lock (_gate)
        {
            ThrowIfUnusableLocked();
            CheckInstallableLocked(metadata);
            snapshot = new SnapshotRef(metadata, ++_lastFileId);
        }
        return new SnapshotReceiver(this, _snapshots.BeginWrite(snapshot));
    }

    /// <summary>Second half of an install: the file is durable; record it in the WAL and compact.</summary>
    internal void InstallReceived(SnapshotRef snapshot)
    {
        lock (_snapshotLock)
        {
            Task durable;
            Segment holder;
            lock (_gate)
            {
                try
                {
                    ThrowIfUnusableLocked();
                    CheckInstallableLocked(snapshot.Metadata);
                }
                catch
                {
                    File.Delete(_snapshots.PathOf(snapshot));
                    throw;
                }
                WriteRecordLocked(RecordType.SnapshotInstalled, 0, snapshot.Index, snapshot.Metadata.Term, PayloadCodec.EncodeSnapshot(snapshot));
                _state.InstallSnapshot(snapshot);
                _snapshotData = null;

                // A new segment whose header holds the new snapshot, so every older segment can go.
                holder = RollLocked();
                durable = _committer.CommitLocked();
            }
            durable.GetAwaiter().GetResult();
            CompactAfterDurable(holder, logReplaced: true);
        }
    }

    private void CheckInstallableLocked(SnapshotMetadata metadata)
    {
        if (metadata.Index < _state.Snapshot.Index)
            throw new InvalidOperationException($"snapshot {metadata.Index} is older than {_state.Snapshot.Index}");
    }

    /// <summary>
    /// Deletes the snapshot files other than the current one, and the oldest segments that replay no longer
    /// needs. <paramref name="durableTail"/> is a segment known to be durable (it held the snapshot record, or
    /// was started right after it); segments after it may not exist on disk yet and are not considered.
    /// </summary>
    /// <remarks>
    /// After a snapshot was created, segment k may be deleted when every later segment up to the one replay
    /// would start from has a base index at or below the snapshot index: replaying from any of them (a crash can
    /// stop the deletions after any one) finds the entries they miss covered by the snapshot, either in its
    /// header or in a later record. After a snapshot was installed (<paramref name="logReplaced"/>), every
    /// segment before <paramref name="durableTail"/> may go: replay from any of them reaches the install
    /// record, which discards whatever came before, and <paramref name="durableTail"/>'s header holds it.
    /// Files are deleted oldest first, with the directory flushed after each, so the segments left on disk
    /// always form an unbroken sequence.
    /// </remarks>
    private void CompactAfterDurable(Segment durableTail, bool logReplaced)
    {
        _beforeCompaction?.Invoke();
        ulong keepFileId;
        List<Segment> obsolete;
        lock (_gate)
        {
            keepFileId = _state.Snapshot.FileId;
            var snapshotIndex = _state.Snapshot.Index;
            var limit = _segments.IndexOf(durableTail);
            var n = 0;
            while (n < limit && (logReplaced || _segments[n + 1].BaseIndex <= snapshotIndex))
                n++;
            obsolete = _segments.GetRange(0, n);
            _segments.RemoveRange(0, n);
        }
        foreach (var segment in obsolete)
        {
            File.Delete(segment.Path);
            DirectorySync.Flush(_walDir);
        }
        _snapshots.RemoveAllExcept(keepFileId, includeTemporary: false);
    }
}
