namespace Kvorum.Raft;

internal sealed partial class Raft
{
    /// <summary>A read waiting for the leader to confirm it still leads (thesis §6.4 step 3).</summary>
    private readonly record struct PendingRead(ulong Seq, ulong Index, ulong From, ReadOnlyMemory<byte> Context);

    // Invariant: sequence numbers in _pendingReads strictly increase.
    private readonly Queue<PendingRead> _pendingReads = new();

    /// <summary>Reads that arrived before the leader committed an entry of its term (thesis §6.4 step 1).</summary>
    private readonly List<(ulong From, ReadOnlyMemory<byte> Context)> _readsAwaitingCommit = [];

    /// <summary>Sequence number of the last heartbeat round; every round can confirm reads and the lease.</summary>
    private ulong _readSeq;

    /// <summary>Send time (in leader ticks) of heartbeat rounds not yet confirmed by a majority, oldest first.</summary>
    private readonly Queue<(ulong Seq, long Tick)> _heartbeatRounds = new();

    /// <summary>Send time of the latest heartbeat round a majority answered: the start of the leader's lease (thesis §6.4.1).</summary>
    private long _leaseStart = long.MinValue;

    private void ResetReadOnly()
    {
        _pendingReads.Clear();
        _readsAwaitingCommit.Clear();
        _heartbeatRounds.Clear();
        _leaseStart = long.MinValue;
        _readSeq = 0;
        foreach (var pr in Tracker.Progress.Values)
            pr.ReadAck = 0;
    }

    /// <summary>
    /// Requests a linearizable read point for <paramref name="context"/>. A follower asks the leader;
    /// returns false if no leader is known (the caller should retry later).
    /// </summary>
    public bool ReadIndex(ReadOnlyMemory<byte> context)
    {
        if (Role == StateRole.Leader)
        {
            HandleReadIndexRequest(Id, context);
            return true;
        }
        if (Lead == 0)
            return false;
        Send(new Message { Type = MessageType.ReadIndex, To = Lead, Context = context });
        return true;
    }

    /// <summary>
    /// ReadIndex at the leader (thesis §6.4): (1) wait for an entry of our term to commit; (2) record the
    /// commit index as the read index; (3) confirm leadership with a heartbeat round to a majority (or,
    /// with leases, trust the lease, §6.4.1); (4) the host serves the read once it has applied the index.
    /// </summary>
    private void HandleReadIndexRequest(ulong from, ReadOnlyMemory<byte> context)
    {
        // Step 1 comes first for every cluster size: until an entry of this term commits, the commit index may lag
        // entries that an earlier leader (or this server before a restart, its commit index being persisted lazily)
        // had committed and acknowledged.
        if (Log.TermOrZero(Log.Committed) != Term)
        {
            _readsAwaitingCommit.Add((from, context));
            return;
        }
        if (Tracker.Config.Voters.Length == 1 && Tracker.Config.IsVoter(Id))
        {
            RespondToRead(from, Log.Committed, context);
            return;
        }
        if (_config.ReadOnlyOption == ReadOnlyOption.LeaseBased && LeaseValid())
        {
            RespondToRead(from, Log.Committed, context);
            return;
        }
        var seq = NextHeartbeatRound();
        _pendingReads.Enqueue(new PendingRead(seq, Log.Committed, from, context));
        BroadcastHeartbeat(seq);
    }

    /// <summary>Starts a heartbeat round: a new sequence number, remembered with its send time.</summary>
    private ulong NextHeartbeatRound()
    {
        var seq = ++_readSeq;
        _heartbeatRounds.Enqueue((seq, _leaderTicks));
        if (Tracker.TryGet(Id, out var self))
            self.ReadAck = seq;
        return seq;
    }

    /// <summary>
    /// Thesis §6.4.1: a majority answered a heartbeat sent at <see cref="_leaseStart"/>, and none of them
    /// will vote for another server until an election timeout after receiving it, so no other leader can
    /// exist before then. One tick of margin covers clock drift of less than a tick per timeout. No lease
    /// during a transfer, which deliberately lets a new leader be elected early, nor for the rest of the term
    /// once a TimeoutNow went out (it may still arrive after the transfer is abandoned).
    /// </summary>
    private bool LeaseValid() =>
        _leadTransferee == 0 && !_timeoutNowSent && _leaseStart != long.MinValue && _leaderTicks < _leaseStart + _electionTimeout - 1;

    private void ReleasePendingReadIndex()
    {
        if (_readsAwaitingCommit.Count == 0)
            return;
        var held = _readsAwaitingCommit.ToArray();
        _readsAwaitingCommit.Clear();
        foreach (var (from, context) in held)
            HandleReadIndexRequest(from, context);
    }

    /// <summary>
    /// A heartbeat response echoing read sequence <paramref name="seq"/> confirms that member still
    /// followed us after every read up to <paramref name="seq"/> was registered.
    /// </summary>
    private void HandleReadAck(Tracking.Progress pr, ulong seq)
    {
        if (seq > pr.ReadAck)
            pr.ReadAck = seq;
        var confirmed = Tracker.ReadAckIndex();
        while (_heartbeatRounds.Count > 0 && _heartbeatRounds.Peek().Seq <= confirmed)
            _leaseStart = _heartbeatRounds.Dequeue().Tick;
        while (_pendingReads.Count > 0 && _pendingReads.Peek().Seq <= confirmed)
        {
            var read = _pendingReads.Dequeue();
            RespondToRead(read.From, read.Index, read.Context);
        }
    }

    private void RespondToRead(ulong from, ulong index, ReadOnlyMemory<byte> context)
    {
        if (from == Id)
            _readStates.Add(new ReadState(index, context));
        else
            Send(new Message { Type = MessageType.ReadIndexResponse, To = from, Index = index, Context = context });
    }
}
