using System.Buffers.Binary;
using System.Text;

namespace Kvorum.Raft.Tests.Simulation;

/// <summary>
/// A deterministic cluster: N servers, a simulated network and clock, crashes and restarts, client
/// writes and reads, and an <see cref="InvariantChecker"/> consulted at every step. Everything random
/// comes from one seed, so a failing run is replayed exactly by rerunning its seed.
/// </summary>
internal sealed class SimCluster
{
    private readonly SimOptions _options;
    private readonly Dictionary<ulong, IRaftLogStore> _memoryStorage = [];
    private readonly List<(ulong From, ulong To)> _snapshotFailures = [];
    private long _nextOp = 1;

    public SimCluster(int seed, int nodes, SimOptions? options = null)
    {
        Seed = seed;
        _options = options ?? new SimOptions();
        Rng = new Random(seed);
        Network = new SimNetwork(new Random(Rng.Next()));
        Checker = new InvariantChecker(Describe);
        var voters = Enumerable.Range(1, nodes).Select(i => (ulong)i).ToArray();
        var conf = new ConfState(voters, []);
        foreach (var id in voters)
            AddNode(id, conf);
    }

    public int Seed { get; }

    public Random Rng { get; }

    public long Now { get; private set; }

    public SimNetwork Network { get; }

    public InvariantChecker Checker { get; }

    public SortedDictionary<ulong, SimNode> Nodes { get; } = [];

    /// <summary>Writes acknowledged to clients: op id → (index, time).</summary>
    public Dictionary<long, (ulong Index, long At)> Acked { get; } = [];

    /// <summary>Writes known to have failed (their slot went to another entry).</summary>
    public HashSet<long> FailedOps { get; } = [];

    public ulong MaxAckedIndex { get; private set; }

    public int ConfChangesAccepted { get; private set; }

    public long ReadsServed { get; private set; }

    /// <summary>Leader changes observed (a node becoming leader).</summary>
    public int LeaderChanges { get; private set; }

    /// <summary>Adds a server whose storage starts with <paramref name="initial"/> (empty for a joining server).</summary>
    public SimNode AddNode(ulong id, ConfState initial)
    {
        var storage = OpenStorage(id, initial);
        var node = new SimNode(id, storage) { NextTick = Now + 1 + Rng.Next(_options.TickInterval) };
        Nodes[id] = node;
        Start(node);
        return node;
    }

    private IRaftLogStore OpenStorage(ulong id, ConfState initial)
    {
        if (_options.StorageFactory is { } factory)
            return factory(id, initial);
        if (!_memoryStorage.TryGetValue(id, out var s))
        {
            s = new MemoryRaftStorage(initial);
            _memoryStorage[id] = s;
        }
        return s;
    }

    private void Start(SimNode node)
    {
        node.RestoreState(node.Storage.SnapshotData.Span);
        node.CheckedCommit = 0;
        node.KnownCommit = 0;
        node.Raft = new RaftNode(new RaftConfig
        {
            Id = node.Id,
            Storage = node.Storage,
            Random = new Random(Rng.Next()),
            ElectionTick = _options.ElectionTick,
            HeartbeatTick = _options.HeartbeatTick,
            PreVote = _options.PreVote,
            CheckQuorum = _options.CheckQuorum,
            ReadOnlyOption = _options.ReadOnlyOption,
            MaxSizePerMsg = _options.MaxSizePerMsg,
            MaxInflightMsgs = _options.MaxInflightMsgs,
            Applied = node.AppliedIndex,
        });
        node.Soft = default;
        ProcessReady(node);
    }

    // ---- Faults ----

    /// <summary>Crash: the process dies; only what it persisted survives.</summary>
    public void Crash(ulong id)
    {
        var node = Nodes[id];
        node.Raft = null;
        node.PendingWrites.Clear(); // not durable yet: lost with the process
        node.PendingProposals.Clear();
        node.PendingReads.Clear();
        node.ReadsAwaitingApply.Clear();
        node.ReceivedSnapshots.Clear();
        if (_options.StorageFactory is not null && node.Storage is IDisposable d)
        {
            d.Dispose();
        }
    }

    public void Restart(ulong id)
    {
        var node = Nodes[id];
        if (node.IsUp)
            return;
        if (_options.StorageFactory is not null)
            node.Storage = OpenStorage(id, ConfState.Empty);
        node.NextTick = Now + 1 + Rng.Next(_options.TickInterval);
        Start(node);
    }

    /// <summary>Cuts every link to and from <paramref name="id"/>.</summary>
    public void Disconnect(ulong id)
    {
        foreach (var other in Nodes.Keys)
        {
            if (other == id)
                continue;
            Network.Block(id, other);
            Network.Block(other, id);
        }
    }

    public void Reconnect(ulong id)
    {
        foreach (var other in Nodes.Keys)
        {
            Network.Unblock(id, other);
            Network.Unblock(other, id);
        }
    }

    /// <summary>Only servers in the same group can talk.</summary>
    public void Partition(params ulong[][] groups)
    {
        Network.HealAll();
        foreach (var a in Nodes.Keys)
        {
            foreach (var b in Nodes.Keys)
            {
                if (a != b && !groups.Any(g => g.Contains(a) && g.Contains(b)))
                    Network.Block(a, b);
            }
        }
    }

    /// <summary>Asymmetric fault: messages from <paramref name="from"/> to <paramref name="to"/> are lost, the other way delivered.</summary>
    public void CutOneWay(ulong from, ulong to) => Network.Block(from, to);

    public void Heal() => Network.HealAll();

    // ---- Clients ----

    /// <summary>
    /// A client write: sent to the leader as <paramref name="via"/> knows it (or any leader).
    /// Returns the op id, or -1 if no server accepted it.
    /// </summary>
    public long Propose(ulong? via = null, int size = 16)
    {
        var target = ResolveLeader(via);
        if (target is null)
            return -1;
        var op = _nextOp++;
        var data = new byte[Math.Max(size, 8)];
        BinaryPrimitives.WriteInt64LittleEndian(data, op);
        var r = target.Raft!.Propose(data);
        if (!r.Accepted)
            return -1;
        target.PendingProposals[r.Index] = (r.Term, op);
        ProcessReady(target);
        return op;
    }

    public ProposeResult ProposeConfChange(ConfChange change)
    {
        var leader = ResolveLeader(null);
        if (leader is null)
            return default;
        var r = leader.Raft!.ProposeConfChange(change);
        if (r.Accepted)
            ConfChangesAccepted++;
        ProcessReady(leader);
        return r;
    }

    /// <summary>Starts a linearizable read at <paramref name="id"/>; returns false if it could not be sent.</summary>
    public bool Read(ulong id)
    {
        var node = Nodes[id];
        if (!node.IsUp)
            return false;
        var ctx = _nextOp++;
        var read = new PendingRead(ctx, id, Now, MaxAckedIndex);
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, ctx);
        if (!node.Raft!.ReadIndex(bytes))
            return false;
        node.PendingReads[ctx] = read;
        ProcessReady(node);
        return true;
    }

    public void TransferLeadership(ulong to)
    {
        var leader = ResolveLeader(null);
        if (leader is null)
            return;
        leader.Raft!.TransferLeadership(to);
        ProcessReady(leader);
    }

    private SimNode? ResolveLeader(ulong? via)
    {
        if (via is { } v && Nodes[v].IsUp)
        {
            var n = Nodes[v];
            if (n.Soft.Role == StateRole.Leader)
                return n;
            if (n.Soft.Lead != 0 && Nodes.TryGetValue(n.Soft.Lead, out var l) && l.IsUp)
                return l;
            return null;
        }
        var id = Leader();
        return id == 0 ? null : Nodes[id];
    }

    /// <summary>The up server that is leader in the highest term, or 0.</summary>
    public ulong Leader()
    {
        ulong best = 0, bestTerm = 0;
        foreach (var n in Nodes.Values)
        {
            if (n.IsUp && n.Soft.Role == StateRole.Leader)
            {
                var term = n.Storage.HardState.Term;
                if (term >= bestTerm)
                {
                    best = n.Id;
                    bestTerm = term;
                }
            }
        }
        return best;
    }

    public int LeaderCount() => Nodes.Values.Count(n => n.IsUp && n.Soft.Role == StateRole.Leader);

    // ---- Time ----

    /// <summary>Advances time by one unit: deliver due messages, fire due ticks, process every Ready.</summary>
    public void Step()
    {
        Now++;
        while (Network.TryDeliver(Now, out var env))
        {
            var to = Nodes.GetValueOrDefault(env.Message.To);
            if (to is null || !to.IsUp || to.Paused)
            {
                if (env.Message.Type == MessageType.Snapshot)
                    ReportSnapshotResult(env.Message.From, env.Message.To, success: false);
                continue;
            }
            if (env.Message.Type == MessageType.Snapshot && env.Message.Snapshot is { } meta)
                to.ReceivedSnapshots[meta.Index] = env.SnapshotData;
            to.Raft!.Step(env.Message);
            ProcessReady(to);
            if (env.Message.Type == MessageType.Snapshot)
                ReportSnapshotResult(env.Message.From, env.Message.To, success: true);
        }
        if (Network.LostSnapshots.Count > 0)
        {
            var lost = Network.LostSnapshots.ToArray();
            Network.LostSnapshots.Clear();
            foreach (var (from, to) in lost)
                ReportSnapshotResult(from, to, success: false);
        }
        foreach (var node in Nodes.Values)
        {
            if (!node.IsUp || node.Paused || node.PendingWrites.Count == 0 || node.PendingWrites[0].Due > Now)
                continue;
            if (LandWrites(node, dueOnly: true) is { } last)
                node.Raft!.ReportPersisted(last.Index, last.Term);
            ProcessReady(node);
        }
        foreach (var node in Nodes.Values)
        {
            if (!node.IsUp || node.Paused || node.NextTick > Now)
                continue;
            node.NextTick += _options.TickInterval;
            node.Raft!.Tick();
            ProcessReady(node);
        }
    }

    /// <summary>
    /// Puts a leader's pending writes on its disk, in order: those due by now, or all of them (a write the
    /// host makes durable at once is durable after every write issued before it). Returns the last entry written.
    /// </summary>
    private Entry? LandWrites(SimNode node, bool dueOnly)
    {
        Entry? last = null;
        while (node.PendingWrites.Count > 0 && (!dueOnly || node.PendingWrites[0].Due <= Now))
        {
            var w = node.PendingWrites[0];
            node.PendingWrites.RemoveAt(0);
            Checker.OnPersist(node.Id, StateRole.Leader, node.Storage, w.Entries);
            node.Storage.Save(w.HardState, w.Entries);
            if (w.Entries.Length > 0)
                last = w.Entries[^1];
        }
        Checker.OnCommit(node, Math.Min(node.KnownCommit, node.Storage.LastIndex));
        return last;
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

    // ---- The host's side of Ready ----

    private void ProcessReady(SimNode node)
    {
        var raft = node.Raft!;
        while (raft.HasReady)
        {
            var rd = raft.GetReady();
            var role = rd.SoftState?.Role ?? node.Soft.Role;

            // 1. Persist.
            if (rd.Snapshot is { } snap)
            {
                if (!node.ReceivedSnapshots.TryGetValue(snap.Index, out var data))
                    throw new InvariantViolationException($"node {node.Id} told to install snapshot {snap.Index} it never received\n{Describe()}");
                node.Storage.ApplySnapshot(snap, data);
                node.RestoreState(data.Span);
                node.CheckedCommit = Math.Max(node.CheckedCommit, snap.Index);
                foreach (var idx in node.PendingProposals.Keys.Where(i => i <= snap.Index).ToList())
                    node.PendingProposals.Remove(idx); // Outcome unknown to this node.
                node.ReceivedSnapshots.Clear();
            }
            var toWrite = rd.HardState is not null || rd.Entries.Count > 0;
            var writeLater = _options.LeaderWritesLater && rd.MayPersistLater;
            Entry? landed = null;
            if (writeLater && toWrite)
            {
                node.PendingWrites.Add(new SimNode.PendingWrite(rd.HardState, [.. rd.Entries], Now + Rng.Next(_options.MinWriteDelay, _options.MaxWriteDelay + 1)));
            }
            else if (!writeLater)
            {
                landed = LandWrites(node, dueOnly: false);
                Checker.OnPersist(node.Id, node.Soft.Role == StateRole.Leader && role == StateRole.Leader ? StateRole.Leader : StateRole.Follower, node.Storage, rd.Entries);
                node.Storage.Save(rd.HardState, rd.EntriesSpan);
            }

            if (rd.SoftState is { } soft)
            {
                if (soft.Role == StateRole.Leader && node.Soft.Role != StateRole.Leader)
                {
                    LeaderChanges++;
                    Checker.OnLeader(node.Id, node.Storage.HardState.Term, node.Storage);
                }
                node.Soft = soft;
            }
            if (rd.HardState is { } hs)
            {
                // A leader may commit entries its own disk does not have yet; they are checked once they land.
                node.KnownCommit = hs.Commit;
                Checker.OnCommit(node, Math.Min(hs.Commit, node.Storage.LastIndex));
            }

            // 2. Send.
            foreach (var m in rd.Messages)
            {
                var data = m.Type == MessageType.Snapshot ? node.Storage.SnapshotData : default;
                // The network keeps the message past Advance, so it takes its own copy of the entries.
                var copy = m.Entries.IsEmpty ? m : m with { Entries = m.Entries.ToArray() };
                if (!Network.Send(Now, copy, data) && m.Type == MessageType.Snapshot)
                    _snapshotFailures.Add((m.From, m.To));
            }

            // 3. Apply.
            foreach (var e in rd.CommittedEntries)
            {
                if (e.Index <= node.AppliedIndex)
                    continue;
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

            // 4. Reads.
            foreach (var rs in rd.ReadStates)
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
                    Checker.OnRead(read, index);
                    ReadsServed++;
                    node.ReadsAwaitingApply.RemoveAt(i);
                }
            }

            if (writeLater)
            {
                raft.AdvanceBeforePersisted();
            }
            else
            {
                raft.Advance();
                if (landed is { } l)
                    raft.ReportPersisted(l.Index, l.Term);
            }

            // 5. Compact (once the disk holds the applied entries: a leader may apply entries still being written).
            if (_options.SnapshotEvery > 0 && node.AppliedIndex >= node.Storage.Snapshot.Index + _options.SnapshotEvery
                && node.AppliedIndex <= node.Storage.LastIndex)
                node.Storage.CreateSnapshot(node.AppliedIndex, raft.ConfStateAt(node.AppliedIndex), node.EncodeState());

            foreach (var (from, to) in _snapshotFailures)
                raft.ReportSnapshot(to, false);
            _snapshotFailures.Clear();
        }
    }

    /// <summary>Like a transport that sees a snapshot stream finish or fail, tell the sender.</summary>
    private void ReportSnapshotResult(ulong from, ulong to, bool success)
    {
        if (Nodes.TryGetValue(from, out var sender) && sender.IsUp)
        {
            sender.Raft!.ReportSnapshot(to, success);
            ProcessReady(sender);
        }
    }

    // ---- Liveness ----

    /// <summary>
    /// Heals every fault and restarts every crashed server, then requires a leader and a new write
    /// committed and applied everywhere within a bounded time (the liveness half of the check).
    /// </summary>
    public void HealAndCheckLiveness(long maxUnits = 20_000)
    {
        Heal();
        Network.DropRate = 0;
        Network.DuplicateRate = 0;
        Network.LongDelay = 0;
        foreach (var n in Nodes.Values)
        {
            n.Paused = false;
            Restart(n.Id);
        }
        var deadline = Now + maxUnits;
        long op = -1, proposedAt = 0;
        while (Now < deadline)
        {
            // A write may be lost to a leader change without a later entry taking its slot; retry.
            if (op < 0 || FailedOps.Contains(op) || (!Acked.ContainsKey(op) && Now - proposedAt > 1000))
            {
                var leader = Leader();
                if (leader != 0)
                {
                    op = Propose(leader);
                    proposedAt = Now;
                }
            }
            if (op >= 0 && Acked.TryGetValue(op, out var ack))
            {
                var members = Nodes[Leader() == 0 ? Nodes.Keys.First() : Leader()].Raft!.Status.Config.All.ToHashSet();
                if (Nodes.Values.Where(n => members.Contains(n.Id)).All(n => n.AppliedIndex >= ack.Index))
                    return;
            }
            Step();
        }
        throw new InvariantViolationException($"liveness: no write committed everywhere within {maxUnits} units after healing\n{Describe()}");
    }

    public string Describe()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"seed {Seed}, time {Now}; replay with: KVORUM_SIM_SEED={Seed} dotnet test --filter \"FullyQualifiedName~RandomizedExploration\"");
        foreach (var n in Nodes.Values)
        {
            if (n.Raft is null)
            {
                sb.AppendLine($"  node {n.Id}: crashed; persisted {n.Storage.HardState} last {n.Storage.LastIndex}");
                continue;
            }
            var s = n.Raft.Status;
            sb.AppendLine($"  node {n.Id}: {s.Role} term {s.Term} lead {s.Lead} commit {s.Commit} applied {s.Applied} last {s.LastIndex} first {s.FirstIndex} {s.Config}");
            foreach (var (peer, p) in s.Progress)
                sb.AppendLine($"    progress {peer}: {p}");
        }
        if (Network.Blocked.Count > 0)
            sb.AppendLine($"  blocked: {string.Join(' ', Network.Blocked.Select(b => $"{b.From}->{b.To}"))}");
        return sb.ToString();
    }
}
