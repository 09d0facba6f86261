using Kvorum.Raft.Tracking;

namespace Kvorum.Raft;

internal sealed partial class Raft
{
    /// <summary>
    /// Starts an election (paper §5.2): with PreVote, first a round that changes no state (thesis §9.6);
    /// a leadership transfer skips it (thesis §3.10).
    /// </summary>
    public void Hup(bool transfer)
    {
        if (Role == StateRole.Leader || !Promotable)
            return;
        if (_config.PreVote && !transfer)
            Campaign(preVote: true, transfer: false);
        else
            Campaign(preVote: false, transfer: transfer);
    }

    private void Campaign(bool preVote, bool transfer)
    {
        ulong term;
        MessageType type;
        if (preVote)
        {
            BecomePreCandidate();
            type = MessageType.PreVote;
            term = Term + 1;
        }
        else
        {
            BecomeCandidate();
            type = MessageType.Vote;
            term = Term;
        }
        Tracker.RecordVote(Id, true);
        if (Tracker.TallyVotes() == VoteResult.Won)
        {
            // A single-voter cluster wins at once.
            if (preVote)
                Campaign(preVote: false, transfer: false);
            else
                BecomeLeader();
            return;
        }
        var lastIndex = Log.LastIndex;
        var lastTerm = Log.LastTerm;
        foreach (var id in Tracker.Voters)
        {
            if (id == Id)
                continue;
            Send(new Message { Type = type, To = id, Term = term, Index = lastIndex, LogTerm = lastTerm, Transfer = transfer });
        }
    }

    /// <summary>Counts a vote response; wins, loses, or keeps waiting.</summary>
    private void HandleVoteResponse(in Message m)
    {
        var expected = Role == StateRole.PreCandidate ? MessageType.PreVoteResponse : MessageType.VoteResponse;
        if (m.Type != expected)
            return;
        Tracker.RecordVote(m.From, !m.Reject);
        switch (Tracker.TallyVotes())
        {
            case VoteResult.Won:
                if (Role == StateRole.PreCandidate)
                {
                    Campaign(preVote: false, transfer: false);
                }
                else
                {
                    BecomeLeader();
                    BroadcastAppend();
                }
                break;
            case VoteResult.Lost:
                // A rejection with a higher term was handled in Step; stay at this term as a follower.
                BecomeFollower(Term, 0);
                break;
        }
    }
}
