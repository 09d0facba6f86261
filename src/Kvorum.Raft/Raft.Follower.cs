namespace Kvorum.Raft;

internal sealed partial class Raft
{
    private void StepFollower(in Message m)
    {
        if (m.Type is MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot && Lead != 0 && m.From != Lead)
        {
            // Election Safety (paper §5.2): a term has at most one leader, and we know this term's. Another server
            // sending a leader's messages in it is forged or broken; following it could undo what the real leader
            // committed through us.
            ForeignLeaderMessages++;
            return;
        }
        switch (m.Type)
        {
            case MessageType.Append:
                _electionElapsed = 0;
                Lead = m.From;
                HandleAppend(m);
                break;
            case MessageType.Heartbeat:
                _electionElapsed = 0;
                Lead = m.From;
                HandleHeartbeat(m);
                break;
            case MessageType.Snapshot:
                _electionElapsed = 0;
                Lead = m.From;
                HandleSnapshot(m);
                break;
            case MessageType.TransferLeader:
                if (Lead != 0)
                    Send(m with { To = Lead, From = Id, Term = 0 });
                break;
            case MessageType.TimeoutNow:
                // Leadership transfer (thesis §3.10): campaign at once, skipping PreVote and leases.
                Hup(transfer: true);
                break;
            case MessageType.ReadIndexResponse:
                _readStates.Add(new ReadState(m.Index, m.Context));
                break;
        }
    }

    private void StepCandidate(in Message m)
    {
        switch (m.Type)
        {
            case MessageType.Append:
                // Another server won this term (paper §5.2).
                BecomeFollower(m.Term, m.From);
                HandleAppend(m);
                break;
            case MessageType.Heartbeat:
                BecomeFollower(m.Term, m.From);
                HandleHeartbeat(m);
                break;
            case MessageType.Snapshot:
                BecomeFollower(m.Term, m.From);
                HandleSnapshot(m);
                break;
            case MessageType.VoteResponse:
            case MessageType.PreVoteResponse:
                HandleVoteResponse(m);
                break;
        }
    }

    /// <summary>AppendEntries receiver (paper Figure 2 and §5.3).</summary>
    private void HandleAppend(in Message m)
    {
        if (m.Index < Log.Committed)
        {
            // Everything up to our commit index matches the leader's log already.
            Send(new Message { Type = MessageType.AppendResponse, To = m.From, Index = Log.Committed });
            return;
        }
        var entries = m.Entries.Span;
        var lastNew = Log.MaybeAppend(m.Index, m.LogTerm, m.Commit, entries, out var conflictAt);
        if (lastNew is { } last)
        {
            if (entries.Length > 0)
                OnEntriesAppended(entries, conflictAt);
            Send(new Message { Type = MessageType.AppendResponse, To = m.From, Index = last });
            return;
        }
        // Consistency check failed. Tell the leader where to resume (paper §5.3, end): the term of our
        // entry at prevLogIndex and the first index we hold of that term; or, if our log is too short,
        // our last index + 1 and term 0. Entries up to our commit index are known to match.
        ulong conflictTerm = 0, hint;
        if (m.Index > Log.LastIndex)
        {
            hint = Log.LastIndex + 1;
        }
        else
        {
            conflictTerm = Log.TermOrZero(m.Index);
            var lo = Math.Max(Log.Committed + 1, Log.FirstIndex);
            hint = Log.FirstIndexWithTermAtLeast(lo, m.Index, conflictTerm);
        }
        Send(new Message
        {
            Type = MessageType.AppendResponse,
            To = m.From,
            Index = m.Index,
            Reject = true,
            RejectHint = hint,
            LogTerm = conflictTerm,
        });
    }

    private void HandleHeartbeat(in Message m)
    {
        Log.CommitTo(Math.Min(m.Commit, Log.LastIndex));
        Send(new Message { Type = MessageType.HeartbeatResponse, To = m.From, Index = m.Index });
    }

    /// <summary>InstallSnapshot receiver (paper §7).</summary>
    private void HandleSnapshot(in Message m)
    {
        var snapshot = m.Snapshot ?? throw new InvalidOperationException("snapshot message without metadata");
        if (RestoreSnapshot(snapshot))
            Send(new Message { Type = MessageType.AppendResponse, To = m.From, Index = Log.LastIndex });
        else
            Send(new Message { Type = MessageType.AppendResponse, To = m.From, Index = Log.Committed });
    }

    /// <summary>
    /// Installs a leader's snapshot unless we already have everything it covers. Returns true if
    /// the log was replaced.
    /// </summary>
    private bool RestoreSnapshot(SnapshotMetadata snapshot)
    {
        if (snapshot.Index <= Log.Committed)
            return false;
        if (Log.MatchTerm(snapshot.Index, snapshot.Term))
        {
            // Our log already contains the snapshot's last entry: keep the entries after it (paper §7).
            Log.CommitTo(snapshot.Index);
            return false;
        }
        Log.Restore(snapshot);
        RestoreConfigFromSnapshot(snapshot);
        return true;
    }
}
