using Kvorum.Raft;

namespace Kvorum.Storage;

public sealed partial class DiskRaftStorage
{
    /// <inheritdoc />
    public void Save(HardState? hardState, ReadOnlySpan<Entry> entries)
    {
        Task durable;
        lock (_gate)
            durable = SaveLocked(hardState, entries);
        durable.GetAwaiter().GetResult();
    }

    /// <summary>
    /// Queues a write like <see cref="Save"/> and returns without waiting, with a task that completes once it is
    /// durable; writes from many callers are flushed together. The records are encoded before it returns (the payloads are kept, not copied: see
    /// <see cref="AppendEntryLocked"/>). Writes become durable in the order they were queued,
    /// so a later <see cref="Save"/> returns only after every earlier write is durable.
    /// </summary>
    public Task StartSave(HardState? hardState, ReadOnlySpan<Entry> entries)
    {
        lock (_gate)
            return SaveLocked(hardState, entries);
    }

    /// <summary>
    /// Appends one entry at the next index (<see cref="LastIndex"/> + 1) and completes with that index once
    /// it is durable. Meant for many concurrent writers: all appends that arrive during one flush share the next.
    /// </summary>
    public async ValueTask<ulong> AppendAsync(ulong term, ReadOnlyMemory<byte> data, EntryType type = EntryType.Normal)
    {
        ulong index;
        Task durable;
        lock (_gate)
        {
            ThrowIfUnusableLocked();
            index = _state.LastIndex + 1;
            AppendEntryLocked(new Entry(index, term, type, data));
            durable = _committer.CommitLocked();
        }
        await durable.ConfigureAwait(false);
        return index;
    }

    private Task SaveLocked(HardState? hardState, ReadOnlySpan<Entry> entries)
    {
        ThrowIfUnusableLocked();
        if (!entries.IsEmpty)
        {
            // Same rules as MemoryRaftStorage.Save: skip what the snapshot covers, refuse a gap.
            var snapshotIndex = _state.Snapshot.Index;
            if (entries[0].Index <= snapshotIndex)
                entries = entries[(int)Math.Min((ulong)entries.Length, snapshotIndex + 1 - entries[0].Index)..];
            if (!entries.IsEmpty && entries[0].Index > _state.LastIndex + 1)
                throw new InvalidOperationException($"gap in log: appending {entries[0].Index} after {_state.LastIndex}");
            for (var i = 1; i < entries.Length; i++)
            {
                if (entries[i].Index != entries[i - 1].Index + 1)
                    throw new ArgumentException($"entries are not contiguous: {entries[i - 1].Index} then {entries[i].Index}", nameof(entries));
            }
            foreach (var e in entries)
                AppendEntryLocked(e);
        }
        var mustSync = !entries.IsEmpty;
        if (hardState is { } hs && hs != _state.HardState)
        {
            mustSync |= hs.Term != _state.HardState.Term || hs.Vote != _state.HardState.Vote;
            WriteRecordLocked(RecordType.HardState, 0, 0, 0, PayloadCodec.EncodeHardState(hs));
            _state.HardState = hs;
        }
        // A hard state that only moves the commit index needs no fsync of its own (etcd's MustSync rule): the
        // index is a lower bound that a restarted node relearns from the leader, and the record reaches the disk
        // with the next batch. The file is a prefix of the queued records, so a commit record that survives a
        // crash finds every entry it covers before it (those were queued, and acknowledged, earlier).
        return mustSync ? _committer.CommitLocked() : Task.CompletedTask;
    }

    /// <summary>
    /// Queues an entry record and applies it to the in-memory log. The in-memory log keeps the caller's payload,
    /// not a copy (as <see cref="MemoryRaftStorage"/> does): an entry's data must not change once saved. A copy
    /// would be one more object per entry that lives until the next snapshot, for the collector to promote.
    /// </summary>
    private void AppendEntryLocked(Entry e)
    {
        WriteRecordLocked(RecordType.Entry, (byte)e.Type, e.Index, e.Term, e.Data.Span);
        _state.Append(e);
    }

    /// <summary>
    /// Queues one record for the current segment, first starting a new segment if the record would take the
    /// current one past the segment size (unless the current one holds nothing but its header, in its batch).
    /// </summary>
    private void WriteRecordLocked(RecordType type, byte entryType, ulong index, ulong term, ReadOnlySpan<byte> payload)
    {
        var size = RecordFormat.RecordSize(payload.Length);
        var segment = _segments[^1];
        if (segment.PlannedLength + size > _segmentSize && segment.PlannedLength > segment.HeaderLength + BatchFrame.FooterSize)
            segment = RollLocked();
        RecordFormat.Write(_committer.ReserveLocked(segment, size), type, entryType, index, term, payload);
        segment.PlannedLength += size;
    }

    /// <summary>
    /// Starts a new segment whose header records the log's current snapshot, hard state and last index, so
    /// that replay can begin at it once compaction has deleted the segments before it.
    /// </summary>
    private Segment RollLocked()
    {
        var previous = _segments[^1];
        var segment = NewSegment(_walDir, previous.Sequence + 1, _state.LastIndex);
        var payload = PayloadCodec.EncodeSegmentHeader(segment.Sequence, _state.Snapshot, _state.HardState);
        var size = RecordFormat.RecordSize(payload.Length);
        RecordFormat.Write(_committer.ReserveLocked(segment, size), RecordType.SegmentHeader, SegmentFormat.Framed, segment.BaseIndex, 0, payload);
        segment.PlannedLength = segment.HeaderLength = size;
        _segments.Add(segment);
        return segment;
    }
}
