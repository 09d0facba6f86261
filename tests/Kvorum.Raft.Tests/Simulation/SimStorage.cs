namespace Kvorum.Raft.Tests.Simulation;

/// <summary>
/// A simulated disk with the durability rules of <c>Kvorum.Storage.DiskRaftStorage</c>: a durable part that
/// survives a crash and a pending part, the writes queued after the last fsync, that a crash loses. What the
/// process sees (every <see cref="IRaftStorage"/> member) is the durable part with the pending writes applied,
/// as the real storage answers from memory before its queue reaches the disk.
/// </summary>
/// <remarks>
/// Which writes are pending follows the real storage, so that a crash here loses exactly what a crash there can:
/// <list type="bullet">
/// <item><see cref="Save"/> with entries, or with a new term or vote, makes everything queued so far durable
/// before it returns (the WAL is one ordered file: an fsync covers every record before it).</item>
/// <item><see cref="Save"/> of a hard state that only moves the commit index is queued without an fsync: it is
/// durable only once a later write syncs (DiskRaftStorage.Append.cs, "complete at once"). A crash before that
/// restarts the member with an older commit index: the case of issue 19, finding 1.</item>
/// <item><see cref="StartSave"/> is a leader's write issued after <c>AdvanceBeforePersisted</c>: queued, durable at
/// its due time or at any earlier sync, in order.</item>
/// <item>Snapshots, received or taken, are written with an fsync that covers the queue before them.</item>
/// </list>
/// </remarks>
internal sealed class SimStorage : IRaftLogStore
{
    /// <summary>A queued write: an optional hard state and entries, durable at <paramref name="Due"/> at the latest.</summary>
    private sealed record Pending(HardState? HardState, Entry[] Entries, long Due);

    private readonly List<Pending> _pending = [];
    private MemoryRaftStorage _durable;
    private MemoryRaftStorage _view;

    /// <summary>The last entry that became durable and is not yet reported through <see cref="TakePersisted"/>.</summary>
    private (ulong Index, ulong Term)? _persisted;

    public SimStorage(ConfState initial)
    {
        _durable = new MemoryRaftStorage(initial);
        _view = Copy(_durable);
    }

    /// <summary>What a crash now would leave: the durable part alone.</summary>
    public IRaftStorage Durable => _durable;

    /// <summary>Number of queued writes that a crash now would lose.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>Crashes lost this many queued writes, and this many of them held only a commit index.</summary>
    public int LostWrites { get; private set; }

    public int LostCommitOnlyWrites { get; private set; }

    public HardState HardState => _view.HardState;

    public SnapshotMetadata Snapshot => _view.Snapshot;

    public ulong FirstIndex => _view.FirstIndex;

    public ulong LastIndex => _view.LastIndex;

    public ReadOnlyMemory<byte> SnapshotData => _view.SnapshotData;

    public bool TryGetTerm(ulong index, out ulong term) => _view.TryGetTerm(index, out term);

    public void GetEntries(ulong lo, ulong hi, long maxBytes, List<Entry> into) => _view.GetEntries(lo, hi, maxBytes, into);

    /// <summary>The synchronous write of a Ready: durable on return, unless it only moves the commit index.</summary>
    public void Save(HardState? hardState, ReadOnlySpan<Entry> entries)
    {
        var hs = hardState is { } h && h != _view.HardState ? h : (HardState?)null;
        if (hs is null && entries.IsEmpty)
            return;
        var mustSync = !entries.IsEmpty || (hs is { } s && (s.Term != _view.HardState.Term || s.Vote != _view.HardState.Vote));
        Queue(hs, entries, mustSync ? long.MinValue : long.MaxValue);
        if (mustSync)
            SyncAll();
    }

    /// <summary>A leader's write that it does not wait for: durable at <paramref name="due"/>, or earlier if a later write syncs.</summary>
    public void StartSave(HardState? hardState, ReadOnlySpan<Entry> entries, long due)
    {
        var hs = hardState is { } h && h != _view.HardState ? h : (HardState?)null;
        if (hs is null && entries.IsEmpty)
            return;
        // Only a commit index: nothing waits on it, so nothing flushes it (the real group committer writes a batch
        // only for a waiter); it reaches the disk with the next durable write.
        Queue(hs, entries, entries.IsEmpty ? long.MaxValue : due);
    }

    private void Queue(HardState? hs, ReadOnlySpan<Entry> entries, long due)
    {
        var copy = entries.ToArray();
        _view.Save(hs, copy);
        _pending.Add(new Pending(hs, copy, due));
    }

    /// <summary>Makes durable every write up to the last one due by <paramref name="now"/>; returns whether any became durable.</summary>
    public bool SyncDue(long now)
    {
        var last = _pending.FindLastIndex(p => p.Due <= now);
        if (last < 0)
            return false;
        SyncThrough(last);
        return true;
    }

    /// <summary>Whether some queued write with entries is due by <paramref name="now"/>.</summary>
    public bool HasDue(long now) => _pending.Exists(p => p.Due <= now);

    public void SyncAll()
    {
        if (_pending.Count > 0)
            SyncThrough(_pending.Count - 1);
    }

    private void SyncThrough(int last)
    {
        for (var i = 0; i <= last; i++)
        {
            var p = _pending[i];
            _durable.Save(p.HardState, p.Entries);
            if (p.Entries.Length > 0)
                _persisted = (p.Entries[^1].Index, p.Entries[^1].Term);
        }
        _pending.RemoveRange(0, last + 1);
    }

    /// <summary>The last entry made durable since the previous call, for <c>RaftNode.ReportPersisted</c>; null if none.</summary>
    public (ulong Index, ulong Term)? TakePersisted()
    {
        var p = _persisted;
        _persisted = null;
        return p;
    }

    public void ApplySnapshot(SnapshotMetadata metadata, ReadOnlyMemory<byte> data)
    {
        SyncAll();
        _durable.ApplySnapshot(metadata, data);
        _view.ApplySnapshot(metadata, data);
    }

    public void CreateSnapshot(ulong index, ConfState confState, ReadOnlyMemory<byte> data)
    {
        SyncAll();
        _durable.CreateSnapshot(index, confState, data);
        _view.CreateSnapshot(index, confState, data);
    }

    /// <summary>
    /// The process dies: the queued writes are lost, except, when <paramref name="keepPrefix"/> is positive, that
    /// many of the oldest (a crash in the middle of a flush: the WAL is written in order, so what reached the disk
    /// is a prefix of the queue). The view is rebuilt from what is durable.
    /// </summary>
    public void Crash(int keepPrefix)
    {
        keepPrefix = Math.Clamp(keepPrefix, 0, _pending.Count);
        if (keepPrefix > 0)
            SyncThrough(keepPrefix - 1);
        LostWrites += _pending.Count;
        LostCommitOnlyWrites += _pending.Count(p => p.Entries.Length == 0);
        _pending.Clear();
        _persisted = null;
        _view = Copy(_durable);
    }

    private static MemoryRaftStorage Copy(MemoryRaftStorage from)
    {
        var copy = new MemoryRaftStorage();
        copy.ApplySnapshot(from.Snapshot, from.SnapshotData);
        var entries = new List<Entry>();
        if (from.LastIndex >= from.FirstIndex)
            from.GetEntries(from.FirstIndex, from.LastIndex + 1, long.MaxValue, entries);
        copy.Save(from.HardState, entries.ToArray());
        return copy;
    }
}
