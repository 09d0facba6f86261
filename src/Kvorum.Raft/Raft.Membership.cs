namespace Kvorum.Raft;

internal sealed partial class Raft
{
    /// <summary>
    /// Configurations in effect from each index on: the snapshot's first, then one per ConfChange entry
    /// in the log. A server uses the latest configuration in its log, committed or not (thesis §4.1),
    /// so when a conflicting suffix is removed the configuration reverts to the one before it.
    /// </summary>
    // Invariant: indexes strictly increase, and _configs[0] is the configuration at Log.FirstIndex - 1.
    private readonly List<(ulong Index, ConfState State)> _configs = [];

    /// <summary>Index of the latest ConfChange entry in the leader's log; a new one is refused until it commits.</summary>
    private ulong _pendingConfIndex;

    /// <summary>Index of the entry that removed this leader, or 0 (thesis §4.2.2).</summary>
    private ulong _selfRemovalIndex;

    public ConfState Config => _configs[^1].State;

    /// <summary>
    /// The latest configuration removed this server from the voters and is not known to be committed. Such a server may
    /// still campaign, counting the votes of the new configuration only, and as leader it finishes its own removal
    /// (thesis §4.2.2). Otherwise a leader that removed itself from two voters and lost leadership before the removal
    /// reached the other could never be replaced: the other needs its vote, and it refuses, having the longer log.
    /// Safe as any single-server change is: a majority of the new configuration shares a member with one of the old.
    /// A removed server that restarted with a stale commit index may campaign too, though its removal committed; the
    /// members that know it committed ignore it (<see cref="RemovedByCommittedConfig"/>), so it cannot disrupt them.
    /// </summary>
    private bool RemovalPending =>
        _configs.Count > 1 && _configs[^1].Index > Log.Committed && !Config.IsVoter(Id) && _configs[^2].State.IsVoter(Id);

    /// <summary>
    /// True if <paramref name="id"/> was a member in this server's log and a committed configuration removed it (and no
    /// later one added it back): its vote requests are ignored, so a removed server that does not know its removal
    /// committed cannot push a higher term on the members (thesis §4.2.3). A server never yet seen in a configuration
    /// (one being added, whose addition has not reached this server) is not refused.
    /// </summary>
    private bool RemovedByCommittedConfig(ulong id)
    {
        if (Config.Contains(id) || ConfigAt(Log.Committed).Contains(id))
            return false;
        foreach (var (_, state) in _configs)
        {
            if (state.Contains(id))
                return true;
        }
        return false;
    }

    /// <summary>The configuration as of log index <paramref name="index"/> (at or after the snapshot).</summary>
    public ConfState ConfigAt(ulong index)
    {
        for (var i = _configs.Count - 1; i >= 0; i--)
        {
            if (_configs[i].Index <= index)
                return _configs[i].State;
        }
        return _configs[0].State;
    }

    private void RestoreConfigHistory(IRaftStorage storage)
    {
        _configs.Clear();
        _configs.Add((storage.Snapshot.Index, storage.Snapshot.ConfState));
        var scratch = new List<Entry>();
        for (var lo = storage.FirstIndex; lo <= storage.LastIndex;)
        {
            scratch.Clear();
            storage.GetEntries(lo, storage.LastIndex + 1, 4 * 1024 * 1024, scratch);
            foreach (var e in scratch)
            {
                if (e.Type == EntryType.ConfChange)
                    _configs.Add((e.Index, _configs[^1].State.Apply(ConfChange.Decode(e.Data))));
            }
            lo += (ulong)scratch.Count;
        }
        Tracker.SetConfig(Config, Log.LastIndex + 1);
    }

    private void RestoreConfigFromSnapshot(SnapshotMetadata snapshot)
    {
        _configs.Clear();
        _configs.Add((snapshot.Index, snapshot.ConfState));
        ApplyLatestConfig();
    }

    /// <summary>
    /// Entries were appended to our log (by us as leader, or from a leader). <paramref name="conflictAt"/>
    /// is the first index that replaced an existing entry, or 0.
    /// </summary>
    private void OnEntriesAppended(ReadOnlySpan<Entry> entries, ulong conflictAt)
    {
        var changed = false;
        if (conflictAt != 0)
        {
            while (_configs.Count > 1 && _configs[^1].Index >= conflictAt)
            {
                _configs.RemoveAt(_configs.Count - 1);
                changed = true;
            }
        }
        foreach (var e in entries)
        {
            if (e.Type != EntryType.ConfChange || e.Index <= _configs[^1].Index)
                continue;
            // Configuration takes effect when appended, not when committed (thesis §4.1).
            _configs.Add((e.Index, Config.Apply(ConfChange.Decode(e.Data))));
            changed = true;
            if (Role == StateRole.Leader)
                _pendingConfIndex = e.Index;
        }
        if (changed)
            ApplyLatestConfig();
    }

    private void ApplyLatestConfig()
    {
        var config = Config;
        Tracker.SetConfig(config, Log.LastIndex + 1);
        if (Role != StateRole.Leader)
            return;
        if (Tracker.TryGet(Id, out var self))
            self.SetSelfMatch(Log.PersistedLastIndex);
        if (!config.IsVoter(Id) && _selfRemovalIndex == 0)
            _selfRemovalIndex = _configs[^1].Index;
        if (_leadTransferee != 0 && !config.IsVoter(_leadTransferee))
            AbortLeaderTransfer();
        // A smaller majority may already have the next entries.
        if (MaybeCommit() && Role == StateRole.Leader)
            _broadcastPending = true;
    }

    /// <summary>
    /// Thesis §4.2.2: a leader that removed itself keeps leading until the removal commits (it does not
    /// count itself in majorities meanwhile), then steps down.
    /// </summary>
    private void CheckSelfRemovalCommitted()
    {
        if (_selfRemovalIndex != 0 && Log.Committed >= _selfRemovalIndex && Role == StateRole.Leader)
        {
            // Send the commit index to everyone before leaving so the removal is known to be committed.
            BroadcastAppend();
            _selfRemovalIndex = 0;
            BecomeFollower(Term, 0);
        }
    }

    /// <summary>
    /// Validates and appends a membership change (thesis §4.1). Refused while another change is
    /// uncommitted, and until the leader has committed an entry of its own term (the errata's fix).
    /// </summary>
    public ProposeResult ProposeConfChange(ConfChange change)
    {
        if (Role != StateRole.Leader)
            return Forward(new Entry(0, 0, EntryType.ConfChange, change.Encode()));
        if (_leadTransferee != 0)
            return ProposeResult.Failed(ProposeStatus.TransferInProgress, Lead);
        if (_pendingConfIndex > Log.Committed)
            return ProposeResult.Failed(ProposeStatus.ConfChangePending, Lead);
        if (Log.TermOrZero(Log.Committed) != Term)
            return ProposeResult.Failed(ProposeStatus.ConfChangePending, Lead);
        try
        {
            Config.Apply(change);
        }
        catch (InvalidOperationException)
        {
            return ProposeResult.Failed(ProposeStatus.InvalidConfChange, Lead);
        }
        Span<Entry> e = [new Entry(0, 0, EntryType.ConfChange, change.Encode())];
        AppendEntries(e);
        return ProposeResult.Ok(e[0].Index, e[0].Term);
    }
}
