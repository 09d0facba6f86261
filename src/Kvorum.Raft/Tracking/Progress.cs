using System.Diagnostics;

namespace Kvorum.Raft.Tracking;

/// <summary>How the leader is replicating to one follower.</summary>
public enum ProgressState : byte
{
    /// <summary>The leader does not know where the follower's log matches; one Append at a time until it finds out.</summary>
    Probe,

    /// <summary>Logs match up to <c>Match</c>; Appends are pipelined optimistically within the inflight window.</summary>
    Replicate,

    /// <summary>The follower needs a snapshot; nothing else is sent until the host reports on it.</summary>
    Snapshot,
}

/// <summary>
/// The leader's view of one member (paper Figure 2 nextIndex/matchIndex, extended with the flow
/// control of thesis §10.2.1).
/// </summary>
internal sealed class Progress
{
    public Progress(ulong next, int maxInflight, long maxInflightBytes, bool isLearner)
    {
        Next = next;
        Inflights = new Inflights(maxInflight, maxInflightBytes);
        IsLearner = isLearner;
    }

    // Invariant: Match < Next.

    /// <summary>Highest index known to be replicated on the member.</summary>
    public ulong Match { get; private set; }

    /// <summary>Index of the next entry to send.</summary>
    public ulong Next { get; private set; }

    public ProgressState State { get; private set; } = ProgressState.Probe;

    /// <summary>In <see cref="ProgressState.Snapshot"/>: the index of the snapshot being sent.</summary>
    public ulong PendingSnapshot { get; private set; }

    /// <summary>Heard from since the last CheckQuorum round (thesis §6.2).</summary>
    public bool RecentActive { get; set; }

    /// <summary>In <see cref="ProgressState.Probe"/>: an Append is outstanding, so wait for its reply or a heartbeat reply.</summary>
    public bool ProbeSent { get; set; }

    /// <summary>Highest read-request sequence number the member acknowledged in a heartbeat (thesis §6.4).</summary>
    public ulong ReadAck { get; set; }

    public Inflights Inflights { get; }

    public bool IsLearner { get; set; }

    /// <summary>True if nothing may be sent to the member now.</summary>
    public bool IsPaused => State switch
    {
        ProgressState.Probe => ProbeSent,
        ProgressState.Replicate => Inflights.Full,
        _ => true,
    };

    public void BecomeProbe()
    {
        // After a snapshot, the member has at least the snapshot's entries.
        Next = State == ProgressState.Snapshot ? Math.Max(Match + 1, PendingSnapshot + 1) : Match + 1;
        State = ProgressState.Probe;
        PendingSnapshot = 0;
        ProbeSent = false;
        Inflights.Reset();
        AssertInvariants();
    }

    public void BecomeReplicate()
    {
        State = ProgressState.Replicate;
        Next = Match + 1;
        PendingSnapshot = 0;
        ProbeSent = false;
        Inflights.Reset();
        AssertInvariants();
    }

    public void BecomeSnapshot(ulong snapshotIndex)
    {
        State = ProgressState.Snapshot;
        PendingSnapshot = snapshotIndex;
        ProbeSent = false;
        Inflights.Reset();
    }

    /// <summary>Resets the member to probing from <paramref name="next"/>, as a new leader does.</summary>
    public void ResetForNewLeader(ulong next, ulong match)
    {
        Match = match;
        Next = Math.Max(next, match + 1);
        State = ProgressState.Probe;
        PendingSnapshot = 0;
        ProbeSent = false;
        RecentActive = false;
        ReadAck = 0;
        Inflights.Reset();
        AssertInvariants();
    }

    /// <summary>Records that an Append carrying entries up to <paramref name="lastIndex"/> was sent.</summary>
    public void SentEntries(ulong lastIndex, long bytes, int count)
    {
        switch (State)
        {
            case ProgressState.Replicate:
                if (count > 0)
                {
                    Next = lastIndex + 1;
                    Inflights.Add(lastIndex, bytes);
                }
                break;
            case ProgressState.Probe:
                ProbeSent = true;
                break;
            default:
                throw new InvalidOperationException($"sending entries in state {State}");
        }
        AssertInvariants();
    }

    /// <summary>
    /// Records an acknowledgement up to <paramref name="index"/>. Returns false if it was stale.
    /// </summary>
    public bool MaybeUpdate(ulong index)
    {
        var updated = false;
        if (Match < index)
        {
            Match = index;
            updated = true;
            ProbeSent = false;
        }
        Next = Math.Max(Next, index + 1);
        AssertInvariants();
        return updated;
    }

    /// <summary>Sets <see cref="Match"/> directly: the leader's own entry, persisted.</summary>
    public void SetSelfMatch(ulong index)
    {
        if (index > Match)
            Match = index;
        Next = Math.Max(Next, Match + 1);
        AssertInvariants();
    }

    /// <summary>
    /// Handles a rejected Append for <paramref name="rejected"/> (its prevLogIndex): retries from
    /// <paramref name="next"/>, which the leader derived from the follower's hint. Returns false if the
    /// rejection is stale.
    /// </summary>
    public bool MaybeDecreaseTo(ulong rejected, ulong next)
    {
        if (State == ProgressState.Replicate)
        {
            // A rejection at or below Match is for an old message; Match is known good.
            if (rejected <= Match)
                return false;
            Next = Math.Max(Match + 1, Math.Min(next, rejected));
            return true;
        }
        // In probe state only the rejection of the message we sent last counts.
        if (Next - 1 != rejected)
            return false;
        Next = Math.Max(Match + 1, Math.Min(next, rejected));
        ProbeSent = false;
        AssertInvariants();
        return true;
    }

    [Conditional("DEBUG")]
    private void AssertInvariants() => Debug.Assert(Match < Next, $"invariant Match < Next broken: {Match} >= {Next}");

    public override string ToString() => $"{State} match={Match} next={Next} inflight={Inflights.Count}";
}
