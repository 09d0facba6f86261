namespace Kvorum.Raft;

internal sealed partial class Raft
{
    /// <summary>Member that leadership is being transferred to, or 0.</summary>
    private ulong _leadTransferee;

    public ulong LeadTransferee => _leadTransferee;

    /// <summary>
    /// Set once this leader has sent a TimeoutNow in its term. Its target may be elected whenever the message arrives,
    /// even after the transfer was abandoned, and its election ignores the followers' leases, so the read lease
    /// cannot be trusted for the rest of the term (<see cref="LeaseValid"/>). Cleared with the term (<see cref="Reset"/>).
    /// </summary>
    private bool _timeoutNowSent;

    /// <summary>
    /// Asks to hand leadership to <paramref name="to"/> (thesis §3.10). A follower forwards the request
    /// to its leader.
    /// </summary>
    public void TransferLeadership(ulong to)
    {
        if (Role == StateRole.Leader)
            StartLeaderTransfer(to);
        else if (Lead != 0)
            Send(new Message { Type = MessageType.TransferLeader, To = Lead, Index = to });
    }

    /// <summary>
    /// Thesis §3.10: stop accepting proposals, bring the target's log up to date, then send it
    /// TimeoutNow so it starts an election at once. Abandoned after an election timeout.
    /// </summary>
    private void StartLeaderTransfer(ulong to)
    {
        if (!Tracker.TryGet(to, out var pr) || pr.IsLearner)
            return;
        if (_leadTransferee != 0)
        {
            if (_leadTransferee == to)
                return;
            AbortLeaderTransfer();
        }
        if (to == Id)
            return;
        _electionElapsed = 0; // The transfer must finish within one election timeout.
        _leadTransferee = to;
        if (pr.Match == Log.LastIndex)
            SendTimeoutNow(to);
        else
            SendAppendLoop(to);
    }

    private void SendTimeoutNow(ulong to)
    {
        _timeoutNowSent = true;
        Send(new Message { Type = MessageType.TimeoutNow, To = to, Transfer = true });
    }

    private void AbortLeaderTransfer() => _leadTransferee = 0;
}
