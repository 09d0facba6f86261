using System.Buffers.Binary;
using Kvorum.Raft.Harness;

namespace Kvorum.Raft.Tests.Simulation;

internal sealed partial class SimCluster
{
    // The configurations of the Ready being handled, taken before it (see BeforeReady).
    private ConfState _readyConfig = ConfState.Empty;
    private ConfState _readyConfigBefore = ConfState.Empty;
    private ConfState _readyCommittedConfig = ConfState.Empty;

    // ---- Time ----

    /// <summary>
    /// Advances time by one unit: deliver due messages, land due writes, fire due ticks, take client requests,
    /// process every Ready (after each event, or once per node at the end with <see cref="SimOptions.BatchedHost"/>).
    /// </summary>
    public void Step()
    {
        Now++;
        DeliverDue();
        if (Network.LostSnapshots.Count > 0)
        {
            var lost = Network.LostSnapshots.ToArray();
            Network.LostSnapshots.Clear();
            foreach (var (from, to) in lost)
                ReportSnapshotResult(from, to, success: false);
        }
        foreach (var node in Nodes.Values)
        {
            // A leader's write issued with AdvanceBeforePersisted reaches its disk (with every write queued before it).
            if (!node.IsUp || node.Paused || node.Storage is not SimStorage disk || !disk.SyncDue(Now))
                continue;
            if (disk.TakePersisted() is { } last)
                node.Raft!.ReportPersisted(last.Index, last.Term);
            AfterCall(node);
        }
        foreach (var node in Nodes.Values)
        {
            if (!node.IsUp || node.Paused || node.NextTick > Now)
                continue;
            node.NextTick += _options.TickInterval;
            node.Raft!.Tick();
            AfterCall(node);
        }
        if (!_options.BatchedHost)
            return;
        foreach (var node in Nodes.Values)
        {
            if (!node.IsUp || node.Paused)
                continue;
            TakeClientRequests(node);
            if (node.Dirty)
                Process(node);
        }
    }

    /// <summary>
    /// Hands a due message to its receiver, if it is up and not paused (else a Snapshot's sender learns it failed),
    /// and tells the sender of a Snapshot that it arrived.
    /// </summary>
    protected override void Deliver(in Envelope envelope)
    {
        var m = envelope.Message;
        var to = Nodes.GetValueOrDefault(m.To);
        if (to is null || !to.IsUp || to.Paused)
        {
            if (m.Type == MessageType.Snapshot)
                ReportSnapshotResult(m.From, m.To, success: false);
            return;
        }
        ReceiveSnapshotData(to, envelope);
        Checker.OnDeliver(m);
        to.Raft!.Step(m);
        AfterCall(to);
        if (m.Type == MessageType.Snapshot)
            ReportSnapshotResult(m.From, m.To, success: true);
    }

    /// <summary>After a call into a node's core: process its Ready now, or mark it for the end of the batch.</summary>
    private void AfterCall(SimNode node)
    {
        if (_options.BatchedHost)
            node.Dirty = true;
        else
            Process(node);
    }

    /// <summary>
    /// The batched host takes the client requests that arrived since its last batch, after the batch's messages and
    /// ticks, as the server's loop takes them from its inbox: a write goes to the core if this node leads (else it
    /// fails), a read is asked for and, while no leader is known, retried at every batch, as the server retries it.
    /// </summary>
    private void TakeClientRequests(SimNode node)
    {
        var raft = node.Raft!;
        foreach (var (op, data) in node.QueuedProposals)
        {
            var r = raft.Propose(data);
            if (r.Accepted)
                node.PendingProposals[r.Index] = (r.Term, op);
            else
                FailedOps.Add(op);
            node.Dirty = true;
        }
        node.QueuedProposals.Clear();
        for (var i = 0; i < node.QueuedReads.Count; i++)
        {
            var read = node.QueuedReads[i];
            if (Now - read.StartedAt > ReadGiveUp)
            {
                node.QueuedReads.RemoveAt(i--);
                continue;
            }
            if (!raft.ReadIndex(ContextOf(read.Context)))
                continue;
            node.PendingReads[read.Context] = read;
            node.QueuedReads.RemoveAt(i--);
            node.Dirty = true;
        }
    }

    public void RunFor(long units)
    {
        for (long i = 0; i < units; i++)
            Step();
    }

    /// <summary>Runs until <paramref name="condition"/> holds or <paramref name="maxUnits"/> pass; returns whether it held.</summary>
    public bool RunUntil(Func<bool> condition, long maxUnits)
    {
        for (long i = 0; i < maxUnits; i++)
        {
            if (condition())
                return true;
            Step();
        }
        return condition();
    }

    /// <summary>Runs until exactly one leader is up and known; returns it or throws.</summary>
    public ulong WaitForLeader(long maxUnits = 5000)
    {
        if (!RunUntil(() => Leader() != 0 && LeaderCount() == 1, maxUnits))
            throw new InvariantViolationException($"no leader within {maxUnits} time units\n{Describe()}");
        return Leader();
    }

    /// <summary>Runs until <paramref name="op"/> is acknowledged to its client.</summary>
    public bool WaitAcked(long op, long maxUnits = 5000) => RunUntil(() => Acked.ContainsKey(op), maxUnits);

    // ---- The simulator's side of each Ready (the harness calls these steps in the Ready contract's order) ----

    /// <summary>Handles the node's Readies, ending a batched host's batch.</summary>
    private void Process(SimNode node)
    {
        node.Dirty = false;
        ProcessReady(node);
    }

    protected override void BeforeReady(SimNode node)
    {
        var raft = node.Raft!;
        // The configuration the Ready's decisions were taken under. A batch of calls can change it between a
        // campaign and the Ready (a truncated promotion), so a vote request may match the one before the batch.
        _readyConfig = raft.Config;
        _readyConfigBefore = node.ConfigAtLastReady ?? _readyConfig;
        node.ConfigAtLastReady = _readyConfig;
        // The configuration of the committed log: a server removed only by a later, uncommitted one may still
        // campaign, counting the new configuration's voters (thesis §4.2.2).
        _readyCommittedConfig = raft.ConfStateAt(raft.Committed);
    }

    protected override bool PersistsLater(SimNode node, Ready ready) =>
        _options.LeaderWritesLater && ready.MayPersistLater && node.Storage is SimStorage;

    protected override void InstallSnapshot(SimNode node, SnapshotMetadata snapshot)
    {
        if (!node.ReceivedSnapshots.TryGetValue(snapshot.Index, out var data))
            throw new InvariantViolationException($"node {node.Id} told to install snapshot {snapshot.Index} it never received\n{Describe()}");
        node.Storage.ApplySnapshot(snapshot, data);
        node.RestoreState(data.Span);
        node.CheckedCommit = Math.Max(node.CheckedCommit, snapshot.Index);
        foreach (var idx in node.PendingProposals.Keys.Where(i => i <= snapshot.Index).ToList())
            node.PendingProposals.Remove(idx); // Outcome unknown to this node.
        node.ReceivedSnapshots.Clear();
    }

    protected override void Persist(SimNode node, Ready ready, bool later)
    {
        var role = ready.SoftState?.Role ?? node.Soft.Role;
        var asLeader = role == StateRole.Leader && (later || node.Soft.Role == StateRole.Leader);
        Checker.OnPersist(node.Id, asLeader ? StateRole.Leader : StateRole.Follower, node.Storage, ready.Entries);
        if (later)
            ((SimStorage)node.Storage).StartSave(ready.HardState, ready.EntriesSpan, Now + Rng.Next(_options.MinWriteDelay, _options.MaxWriteDelay + 1));
        else
            node.Storage.Save(ready.HardState, ready.EntriesSpan); // durable on return, but for a commit index alone
    }

    protected override void Persisted(SimNode node, Ready ready)
    {
        var role = ready.SoftState?.Role ?? node.Soft.Role;
        if (ready.SoftState is { } soft)
        {
            if (soft.Role == StateRole.Leader && node.Soft.Role != StateRole.Leader)
            {
                LeaderChanges++;
                Checker.OnLeader(node.Id, node.Storage.HardState.Term, node.Storage, _readyConfig, _readyCommittedConfig);
            }
            node.Soft = soft;
        }
        if (ready.HardState is { } hs)
        {
            if (role == StateRole.Leader && hs.Commit > node.KnownCommit)
                Checker.OnLeaderCommit(node, _readyConfig, hs.Commit, id => Nodes.TryGetValue(id, out var n) ? DurableOf(n) : null);
            // A leader may commit entries its own disk does not have yet; they are checked once they land.
            node.KnownCommit = hs.Commit;
            Checker.OnCommit(node, Math.Min(hs.Commit, node.Storage.LastIndex));
        }
    }

    protected override bool Send(SimNode node, in Message message)
    {
        Checker.OnSend(_readyConfig, _readyConfigBefore, _readyCommittedConfig, message, DurableOf(node));
        var sent = base.Send(node, message);
        if (!sent && message.Type == MessageType.Snapshot)
            _snapshotFailures.Add((message.From, message.To));
        return sent;
    }

    protected override void ServeReads(SimNode node, Ready ready)
    {
        foreach (var rs in ready.ReadStates)
        {
            var ctx = BinaryPrimitives.ReadInt64LittleEndian(rs.Context.Span);
            if (node.PendingReads.Remove(ctx, out var read))
                node.ReadsAwaitingApply.Add((read, rs.Index));
        }
        for (var i = node.ReadsAwaitingApply.Count - 1; i >= 0; i--)
        {
            var (read, index) = node.ReadsAwaitingApply[i];
            if (index <= node.AppliedIndex)
            {
                Checker.OnRead(read, index, node.AppliedIndex);
                ReadsServed++;
                node.ReadsAwaitingApply.RemoveAt(i);
            }
        }
    }

    protected override void Advanced(SimNode node, Ready ready)
    {
        var raft = node.Raft!;
        // Compact (once the disk holds the applied entries: a leader may apply entries still being written).
        if (_options.SnapshotEvery > 0 && node.AppliedIndex >= node.Storage.Snapshot.Index + _options.SnapshotEvery
            && node.AppliedIndex <= node.Storage.LastIndex)
            node.Storage.CreateSnapshot(node.AppliedIndex, raft.ConfStateAt(node.AppliedIndex), node.EncodeState());

        // A synchronous write or a snapshot also made durable the leader's earlier writes still in flight.
        if ((node.Storage as SimStorage)?.TakePersisted() is { } persisted)
            raft.ReportPersisted(persisted.Index, persisted.Term);

        foreach (var (_, to) in _snapshotFailures)
            raft.ReportSnapshot(to, false);
        _snapshotFailures.Clear();
    }

    protected override void Apply(SimNode node, in Entry e)
    {
        if (e.Index <= node.AppliedIndex)
            return;
        if (e.Index != node.AppliedIndex + 1)
            throw new InvariantViolationException($"node {node.Id} applies {e.Index} after {node.AppliedIndex}\n{Describe()}");
        node.AppliedHash = SimNode.Fold(node.AppliedHash, e);
        node.AppliedIndex = e.Index;
        if (e.Type == EntryType.Normal && e.Data.Length > 0)
            node.AppliedCommands++;
        Checker.OnApply(node.Id, e.Index, node.AppliedHash);
        if (node.PendingProposals.Remove(e.Index, out var p))
        {
            var op = e.Data.Length >= 8 ? BinaryPrimitives.ReadInt64LittleEndian(e.Data.Span) : 0;
            if (p.Term == e.Term && op == p.OpId)
            {
                Acked[p.OpId] = (e.Index, Now);
                MaxAckedIndex = Math.Max(MaxAckedIndex, e.Index);
            }
            else
            {
                FailedOps.Add(p.OpId);
            }
        }
    }

    /// <summary>Like a transport that sees a snapshot stream finish or fail, tell the sender.</summary>
    private void ReportSnapshotResult(ulong from, ulong to, bool success)
    {
        if (Nodes.TryGetValue(from, out var sender) && sender.IsUp)
        {
            sender.Raft!.ReportSnapshot(to, success);
            AfterCall(sender);
        }
    }
}
