namespace Kvorum.Raft;

internal sealed partial class Raft
{
    /// <summary>
    /// Handles one message from another server: first the term rules that every server follows
    /// (paper Figure 2, "Rules for Servers"), then votes, then the role's own rules.
    /// </summary>
    public void Step(in Message m)
    {
        if (m.Type is MessageType.Vote or MessageType.PreVote && RemovedByCommittedConfig(m.From))
            return;
        if (m.Term > Term)
        {
            if (m.Type is MessageType.Vote or MessageType.PreVote && !m.Transfer && InLease())
            {
                // Thesis §4.2.3: a server that heard from a live leader within the minimum election
                // timeout ignores vote requests, so a removed or cut-off server cannot depose it.
                return;
            }
            // A PreVote is about a future term and changes no state (thesis §9.6); a granted PreVote
            // response carries the term we asked about. Anything else from a higher term makes us follow it.
            var preVoteOnly = m.Type == MessageType.PreVote || (m.Type == MessageType.PreVoteResponse && !m.Reject);
            if (!preVoteOnly)
                BecomeFollower(m.Term, m.Type is MessageType.Append or MessageType.Heartbeat or MessageType.Snapshot ? m.From : 0);
        }
        else if (m.Term < Term)
        {
            if (m.Type is MessageType.Append or MessageType.Heartbeat && (_config.CheckQuorum || _config.PreVote))
            {
                // A stale leader that cannot learn our term from a vote request (PreVote, lease) would
                // never step down; tell it our term.
                Send(new Message { Type = MessageType.AppendResponse, To = m.From });
            }
            else if (m.Type == MessageType.PreVote)
            {
                Send(new Message { Type = MessageType.PreVoteResponse, To = m.From, Reject = true });
            }
            else if (m.Type == MessageType.Vote)
            {
                // Figure 2, RequestVote receiver: false, with our term, so a candidate of an older term learns it.
                // One that no other server talks to (its peers see it as removed or a learner) would campaign forever.
                Send(new Message { Type = MessageType.VoteResponse, To = m.From, Reject = true });
            }
            return;
        }

        switch (m.Type)
        {
            case MessageType.Vote:
            case MessageType.PreVote:
                HandleVoteRequest(m);
                return;
        }

        switch (Role)
        {
            case StateRole.Leader:
                StepLeader(m);
                break;
            case StateRole.Candidate:
            case StateRole.PreCandidate:
                StepCandidate(m);
                break;
            default:
                StepFollower(m);
                break;
        }
    }

    /// <summary>True while a leader is known and was heard from within the election timeout.</summary>
    /// <remarks>
    /// With lease-based reads, a server that just started also waits an election timeout before voting:
    /// it may have acknowledged a leader's heartbeat before it crashed, and that leader's lease counts on it.
    /// </remarks>
    private bool InLease() => _config.CheckQuorum && ((Lead != 0 && _electionElapsed < _electionTimeout)
        || (_config.ReadOnlyOption == ReadOnlyOption.LeaseBased && _ticksSinceStart < _electionTimeout));

    /// <summary>
    /// RequestVote receiver (paper Figure 2) and PreVote (thesis §9.6): grant if we have not voted for
    /// someone else in this term and the candidate's log is at least as up to date as ours (§5.4.1).
    /// </summary>
    private void HandleVoteRequest(in Message m)
    {
        var preVote = m.Type == MessageType.PreVote;
        bool canVote;
        if (preVote)
        {
            // Thesis §9.6: grant a pre-vote only if no leader was heard from within the election timeout.
            var heardFromLeader = Lead != 0 && _electionElapsed < _electionTimeout && !m.Transfer;
            canVote = m.Term > Term && !heardFromLeader;
            // Two servers whose election timeouts end within a message delay of each other both become
            // pre-candidates; granting each other's pre-vote, both would become candidates, vote for themselves
            // and split the vote, and the cluster would wait another election timeout for a leader. Between
            // pre-candidates for the same term that started in the current tick, grant only to the one that would
            // win on the other side as well: the longer log, and on equal logs the higher id. Only in the tick the
            // pre-vote started: a pre-candidate that cannot win (cut off from a quorum) stays one, and must not
            // refuse, election after election, the pre-candidate that needs its grant. A pre-vote changes no
            // state, so this bears on liveness only.
            if (canVote && Role == StateRole.PreCandidate && _electionElapsed == 0 && m.Term == Term + 1 && !m.Transfer
                && !PrevailsAsPreCandidate(m))
                canVote = false;
        }
        else
        {
            canVote = Vote == m.From || (Vote == 0 && Lead == 0);
        }
        var responseType = preVote ? MessageType.PreVoteResponse : MessageType.VoteResponse;
        var logOk = Log.IsUpToDate(m.Index, m.LogTerm);
        if (canVote && logOk)
        {
            // The response carries the requested term, so the candidate counts it.
            Send(new Message { Type = responseType, To = m.From, Term = m.Term });
            if (!preVote)
            {
                _electionElapsed = 0;
                Vote = m.From;
            }
        }
        else
        {
            Send(new Message { Type = responseType, To = m.From, Term = Term, Reject = true });
            // A pre-vote we refuse only for a log less up to date than ours, while no leader holds us: the sender
            // wants an election that it cannot win and that we would. Start ours now rather than at our own
            // timeout, which may come a whole randomized timeout after the sender's (a follower still in its lease,
            // its ticks behind, ignored our earlier pre-vote): otherwise a failover takes two election timeouts.
            // Campaigning is always safe; this bears on liveness only.
            if (preVote && canVote && Role is StateRole.Follower or StateRole.PreCandidate)
            {
                _electionElapsed = 0;
                Hup(transfer: false);
            }
        }
    }

    /// <summary>
    /// Whether the pre-candidate that sent <paramref name="m"/> goes before this one: its log is more up to date
    /// (§5.4.1), or equally up to date and its id is higher. For two pre-candidates exactly one of them goes first.
    /// </summary>
    private bool PrevailsAsPreCandidate(in Message m)
    {
        var ourTerm = Log.LastTerm;
        if (m.LogTerm != ourTerm)
            return m.LogTerm > ourTerm;
        if (m.Index != Log.LastIndex)
            return m.Index > Log.LastIndex;
        return m.From > Id;
    }
}
