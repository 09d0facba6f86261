namespace Kvorum.Raft;

internal sealed partial class Raft
{
    /// <summary>A read waiting for the leader to confirm it still leads (thesis §6.4 step 3).</summary>
    private readonly record struct PendingRead(ulong Seq, ulong Index, ulong From, ReadOnlyMemory<byte> Context);

    // Invariant: sequence numbers in _pendingReads strictly increase.
    private readonly Queue<PendingRead> _pendingReads = new();

    /// <summary>Reads that arrived before the leader committed an entry of its term (thesis §6.4 step 1).</summary>
    private readonly List<(ulong From, ReadOnlyMemory<byte> Context)> _readsAwaitingCommit = [];

    private ulong _readSeq;

    private void ResetReadOnly()
    {
        _pendingReads.Clear();
        _readsAwaitingCommit.Clear();
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
        if (Tracker.Config.Voters.Length == 1 && Tracker.Config.IsVoter(Id))
        {
            RespondToRead(from, Log.Committed, context);
            return;
        }
        if (Log.TermOrZero(Log.Committed) != Term)
        {
            _readsAwaitingCommit.Add((from, context));
            return;
        }
        if (_config.ReadOnlyOption == ReadOnlyOption.LeaseBased)
        {
            RespondToRead(from, Log.Committed, context);
            return;
        }
        var seq = ++_readSeq;
        _pendingReads.Enqueue(new PendingRead(seq, Log.Committed, from, context));
        if (Tracker.TryGet(Id, out var self))
            self.ReadAck = seq;
        BroadcastHeartbeat(seq);
    }

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
