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

    // Files of snapshots prepared but not yet committed, which compaction keeps. Under _gate.
    private readonly HashSet<ulong> _preparedFileIds = [];

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
    /// <remarks>The same as <see cref="PrepareSnapshot(ulong, ConfState, ReadOnlyMemory{byte})"/> followed by <see cref="CommitSnapshot"/>.</remarks>
    public void CreateSnapshot(ulong index, ConfState confState, ReadOnlyMemory<byte> data)
    {
        lock (_snapshotLock)
        {
            // A copy: the caller may reuse its buffer, and the data stays as the current snapshot's.
            if (PrepareSnapshot(index, confState, data.ToArray()) is { } prepared && !CommitSnapshot(prepared))
                throw new InvalidOperationException($"the log changed at index {index} while its snapshot was being written");
        }
    }

    /// <summary>
    /// First half of <see cref="CreateSnapshot"/>, safe to call on any thread while the log keeps changing:
    /// writes the snapshot's file and makes it durable, without making it current. The file takes the time
    /// (a large state machine means a large file); <see cref="CommitSnapshot"/> is quick. Returns null when the
    /// log already has a snapshot at or past <paramref name="index"/>.
    /// </summary>
    /// <param name="index">The applied index the data reflects; at most the last index.</param>
    /// <param name="confState">The configuration at <paramref name="index"/>.</param>
    /// <param name="data">The state machine's bytes; kept (not copied) as the snapshot's data once committed.</param>
    public PreparedSnapshot? PrepareSnapshot(ulong index, ConfState confState, ReadOnlyMemory<byte> data)
    {
        var prepared = PrepareSnapshot(index, confState, stream => stream.Write(data.Span));
        return prepared is null ? null : new PreparedSnapshot(prepared.Snapshot, data);
    }

    /// <summary>
    /// Like <see cref="PrepareSnapshot(ulong, ConfState, ReadOnlyMemory{byte})"/>, but <paramref name="write"/>
    /// writes the state machine straight into the snapshot file, so the bytes are never all in memory; once
    /// committed, <see cref="SnapshotData"/> reads them back from the file only if asked.
    /// </summary>
    public PreparedSnapshot? PrepareSnapshot(ulong index, ConfState confState, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(confState);
        ArgumentNullException.ThrowIfNull(write);
        SnapshotRef snapshot;
        lock (_gate)
        {
            ThrowIfUnusableLocked();
            if (index <= _state.Snapshot.Index)
                return null;
            if (!_state.TryGetTerm(index, out var term))
                throw new ArgumentOutOfRangeException(nameof(index), $"index {index} is past the last index {_state.LastIndex}");
            snapshot = new SnapshotRef(new SnapshotMetadata(index, term, confState), ++_lastFileId);
            // Compaction must not delete the file before it is committed (or given up).
            _preparedFileIds.Add(snapshot.FileId);
        }

        // The file, durable under its final name. Until it is committed it is an orphan that open would delete.
        try
        {
            using var stream = new PreparingSnapshotStream(_snapshots.BeginWrite(snapshot));
            write(stream);
            stream.Commit();
        }
        catch
        {
            lock (_gate)
                _preparedFileIds.Remove(snapshot.FileId);
            throw;
        }
        return new PreparedSnapshot(snapshot, null);
    }

    /// <summary>
    /// Second half of <see cref="CreateSnapshot"/>: records the prepared snapshot in the WAL, makes it current
    /// and drops the log entries it covers. Call it on the thread that drives the Raft core, between core calls
    /// (the core reads the log). Returns false, and deletes the file, when the log no longer holds the entry the
    /// snapshot was taken at with the same term, or already has a snapshot at or past it (one was installed
    /// from a leader meanwhile).
    /// </summary>
    public bool CommitSnapshot(PreparedSnapshot prepared)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        var snapshot = prepared.Snapshot;
        lock (_snapshotLock)
        {
            Task durable;
            Segment holder;
            lock (_gate)
            {
                _preparedFileIds.Remove(snapshot.FileId);
                ThrowIfUnusableLocked();
                var index = snapshot.Index;
                if (!_state.TryGetTerm(index, out var term) || term != snapshot.Metadata.Term || index <= _state.Snapshot.Index)
                {
                    _fs.Delete(_snapshots.PathOf(snapshot));
                    return false;
                }
                WriteRecordLocked(RecordType.SnapshotCreated, 0, index, snapshot.Metadata.Term, PayloadCodec.EncodeSnapshot(snapshot));
                _state.CreateSnapshot(snapshot);
                _snapshotData = prepared.Data; // null: read from the file when asked
                holder = _segments[^1];
                durable = _committer.CommitLocked();
            }
            durable.GetAwaiter().GetResult();

            // Only now is anything older removed.
            CompactAfterDurable(holder, logReplaced: false);
            return true;
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
                    _fs.Delete(_snapshots.PathOf(snapshot));
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
        ulong[] prepared;
        List<Segment> obsolete;
        lock (_gate)
        {
            keepFileId = _state.Snapshot.FileId;
            prepared = [.. _preparedFileIds];
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
            _fs.Delete(segment.Path);
            _fs.SyncDirectory(_walDir);
        }
        _snapshots.RemoveAllExcept(keepFileId, includeTemporary: false, alsoKeep: prepared);
    }
}
