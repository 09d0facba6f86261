using Kvorum.Raft.Tracking;

namespace Kvorum.Raft;

internal sealed partial class Raft
{
    private readonly List<Entry> _sendScratch = [];
    private readonly Log.EntryArena _arena = new();

    /// <summary>The host sent the last Ready's messages: their entry slices may be reused.</summary>
    public void OnMessagesSent() => _arena.Reset();

    /// <summary>
    /// Leader: assigns index and term to <paramref name="entries"/>, appends them to its own log, and
    /// schedules replication. The leader's own copy counts toward commitment only once persisted.
    /// </summary>
    private void AppendEntries(Span<Entry> entries)
    {
        var last = Log.LastIndex;
        for (var i = 0; i < entries.Length; i++)
            entries[i] = entries[i] with { Index = last + 1 + (ulong)i, Term = Term };
        Log.Append(entries);
        OnEntriesAppended(entries, conflictAt: 0);
        _broadcastPending = true;
    }

    /// <summary>Called once per Ready: one Append per follower for everything proposed since the last one.</summary>
    private void FlushBroadcast()
    {
        if (!_broadcastPending)
            return;
        _broadcastPending = false;
        if (Role == StateRole.Leader)
            BroadcastAppend();
    }

    /// <summary>Sends what each member is missing, as far as flow control allows.</summary>
    private void BroadcastAppend()
    {
        foreach (var id in Tracker.Progress.Keys)
        {
            if (id != Id)
                SendAppendLoop(id);
        }
    }

    private void SendAppendLoop(ulong to)
    {
        // Pipelining: keep sending batches until the window is full or nothing is left (thesis §10.2.1).
        if (!MaybeSendAppend(to, sendIfEmpty: true))
            return;
        while (MaybeSendAppend(to, sendIfEmpty: false))
        {
        }
    }

    /// <summary>
    /// Sends one AppendEntries to <paramref name="to"/> with the entries from its Next index, or an
    /// InstallSnapshot if those are compacted (paper §7). Returns true if a message was sent.
    /// </summary>
    private bool MaybeSendAppend(ulong to, bool sendIfEmpty)
    {
        if (!Tracker.TryGet(to, out var pr) || pr.IsPaused)
            return false;
        var prevIndex = pr.Next - 1;
        var lastIndex = Log.LastIndex;
        if (!Log.TryGetTerm(prevIndex, out var prevTerm))
            return SendSnapshot(to, pr);
        _sendScratch.Clear();
        if (pr.Next <= lastIndex && !Log.Slice(pr.Next, lastIndex + 1, _config.MaxSizePerMsg, _sendScratch))
            return SendSnapshot(to, pr);
        if (_sendScratch.Count == 0 && !sendIfEmpty)
            return false;
        long bytes = 0;
        foreach (var e in _sendScratch)
            bytes += e.Size;
        var entries = _arena.Copy(_sendScratch);
        Send(new Message
        {
            Type = MessageType.Append,
            To = to,
            Index = prevIndex,
            LogTerm = prevTerm,
            Entries = entries,
            Commit = Log.Committed,
        });
        pr.SentEntries(entries.Length == 0 ? prevIndex : entries.Span[^1].Index, bytes, entries.Length);
        return true;
    }

    private bool SendSnapshot(ulong to, Progress pr)
    {
        if (!pr.RecentActive)
            return false; // Do not ship a snapshot to a member that may be down.
        var snapshot = Log.Storage.Snapshot;
        if (snapshot.IsEmpty)
            throw new InvalidOperationException($"entries for {to} are compacted but storage has no snapshot");
        pr.BecomeSnapshot(snapshot.Index);
        Send(new Message { Type = MessageType.Snapshot, To = to, Snapshot = snapshot });
        return true;
    }

    private void BroadcastHeartbeat(ulong readSeq)
    {
        foreach (var (id, pr) in Tracker.Progress)
        {
            if (id == Id)
                continue;
            // A follower may not have the leader's commit index yet; never tell it more than it stores.
            Send(new Message
            {
                Type = MessageType.Heartbeat,
                To = id,
                Commit = Math.Min(pr.Match, Log.Committed),
                Index = readSeq,
            });
        }
    }

    /// <summary>
    /// Commits the highest index stored on a majority, if it is from the current term (paper §5.4.2:
    /// earlier terms' entries are committed only indirectly). Returns true if the commit index moved.
    /// </summary>
    private bool MaybeCommit()
    {
        var candidate = Tracker.CommittedIndex();
        // No voters means no majority, so nothing can commit (ConfState refuses to remove the last voter).
        if (candidate == ulong.MaxValue)
            return false;
        var before = Log.Committed;
        if (!Log.MaybeCommit(candidate, Term))
            return false;
        OnCommitAdvanced(before);
        return true;
    }

    private void OnCommitAdvanced(ulong before)
    {
        if (Log.TermOrZero(before) != Term)
            ReleasePendingReadIndex(); // First commit of this term: held reads may now proceed.
        CheckSelfRemovalCommitted();
    }

    /// <summary>The host persisted our log up to <paramref name="index"/>: count it toward commitment.</summary>
    public void OnPersisted(ulong index)
    {
        if (Role != StateRole.Leader || !Tracker.TryGet(Id, out var self))
            return;
        if (!Log.TryGetTerm(index, out _))
            return;
        self.SetSelfMatch(index);
        if (MaybeCommit())
            _broadcastPending = true; // announced with the next Ready's appends (see HandleAppendResponse)
    }

    private void StepLeader(in Message m)
    {
        switch (m.Type)
        {
            case MessageType.ReadIndex:
                HandleReadIndexRequest(m.From, m.Context);
                return;
            case MessageType.TransferLeader:
                StartLeaderTransfer(m.Index);
                return;
            case MessageType.Propose:
                HandleForwardedProposals(m);
                return;
        }

        if (!Tracker.TryGet(m.From, out var pr))
            return;
        switch (m.Type)
        {
            case MessageType.AppendResponse:
                pr.RecentActive = true;
                HandleAppendResponse(m, pr);
                break;
            case MessageType.HeartbeatResponse:
                pr.RecentActive = true;
                pr.ProbeSent = false;
                // A window that stays full may be full of lost messages: let one more through. If the
                // follower is missing entries it rejects it, and we fall back to probing.
                if (pr.State == ProgressState.Replicate && pr.Inflights.Full)
                    pr.Inflights.FreeFirstOne();
                if (pr.Match < Log.LastIndex)
                    SendAppendLoop(m.From);
                if (m.Index != 0)
                    HandleReadAck(pr, m.Index);
                break;
        }
    }

    private void HandleAppendResponse(in Message m, Progress pr)
    {
        if (m.Reject)
        {
            // Fast backtracking (paper §5.3, end): the follower names the term of its conflicting entry
            // (LogTerm) and the first index it has of that term (RejectHint). If we have that term too, we
            // resume after our last entry of it; otherwise we skip the follower's whole term.
            var next = m.RejectHint;
            if (m.LogTerm != 0)
            {
                var (idx, term) = Log.LastIndexWithTermAtMost(Log.FirstIndex - 1, Math.Min(m.Index, Log.LastIndex), m.LogTerm);
                if (idx != 0 && term == m.LogTerm)
                    next = idx + 1;
            }
            if (pr.MaybeDecreaseTo(m.Index, Math.Max(next, 1)))
            {
                if (pr.State == ProgressState.Replicate)
                    pr.BecomeProbe();
                SendAppendLoop(m.From);
            }
            return;
        }

        var wasPaused = pr.IsPaused;
        if (!pr.MaybeUpdate(m.Index))
        {
            // Stale or duplicate acknowledgement, but it may unblock a probe.
            if (wasPaused && !pr.IsPaused)
                SendAppendLoop(m.From);
            return;
        }
        switch (pr.State)
        {
            case ProgressState.Probe:
                pr.BecomeReplicate();
                break;
            case ProgressState.Snapshot when pr.Match + 1 >= Log.FirstIndex:
                // The snapshot (or an append) brought the follower to where our log begins.
                pr.BecomeProbe();
                pr.BecomeReplicate();
                break;
            case ProgressState.Replicate:
                pr.Inflights.FreeLE(m.Index);
                break;
        }
        if (MaybeCommit())
        {
            if (Role != StateRole.Leader)
                return;
            // Every follower learns the new commit index from the next Ready's appends, which also carry what
            // was proposed meanwhile: one message per follower per Ready, not one more per acknowledgement.
            _broadcastPending = true;
        }
        else if (wasPaused)
        {
            SendAppendLoop(m.From);
        }
        else
        {
            // Only entries the window held back: an empty append would tell this follower nothing new.
            while (MaybeSendAppend(m.From, sendIfEmpty: false))
            {
            }
        }
        if (m.From == _leadTransferee && pr.Match == Log.LastIndex)
            SendTimeoutNow(m.From);
    }

    public void ReportUnreachable(ulong id)
    {
        if (Role == StateRole.Leader && Tracker.TryGet(id, out var pr) && pr.State == ProgressState.Replicate)
            pr.BecomeProbe();
    }

    public void ReportSnapshot(ulong id, bool success)
    {
        if (Role != StateRole.Leader || !Tracker.TryGet(id, out var pr) || pr.State != ProgressState.Snapshot)
            return;
        if (!success)
        {
            // Forget the snapshot; the next heartbeat response retries (and may send a newer one).
            pr.BecomeProbe();
            pr.ProbeSent = true;
            return;
        }
        // The follower now has the snapshot; probe from just after it. Wait for its Append response.
        pr.BecomeProbe();
        pr.ProbeSent = true;
    }
}
