using System.Buffers.Binary;
using Kvorum.Raft.Harness;

namespace Kvorum.Raft.Tests.Simulation;

/// <summary>
/// A deterministic cluster: N servers, a simulated network and clock, crashes and restarts, client
/// writes and reads, and an <see cref="InvariantChecker"/> consulted at every step. Everything random
/// comes from one seed, so a failing run is replayed exactly by rerunning its seed. The Readies are handled by the
/// shared <see cref="RaftHarness{TNode}"/>, whose steps this class extends with the simulated disk, clients and
/// checks. Split by concern: the cluster, its faults and its clients here; time, delivery and the simulator's side
/// of each Ready in SimCluster.Ready.cs; the liveness check and the state dump in SimCluster.Liveness.cs.
/// </summary>
internal sealed partial class SimCluster : RaftHarness<SimNode>
{
    private readonly SimOptions _options;
    private readonly Dictionary<ulong, IRaftLogStore> _memoryStorage = [];
    private readonly List<(ulong From, ulong To)> _snapshotFailures = [];
    private long _nextOp = 1;

    /// <summary>
    /// Starts <paramref name="nodes"/> voters (ids 1..N) and <paramref name="learners"/> learners (ids N+1..),
    /// all bootstrapped with the same configuration.
    /// </summary>
    public SimCluster(int seed, int nodes, SimOptions? options = null, int learners = 0)
        : this(seed, nodes, options, learners, Randomness(seed))
    {
    }

    private SimCluster(int seed, int nodes, SimOptions? options, int learners, (Random Rng, SimNetwork Network) randomness)
        : base(randomness.Network)
    {
        Seed = seed;
        _options = options ?? new SimOptions();
        if (_options.LeaderWritesLater && _options.StorageFactory is not null)
            throw new ArgumentException("a leader's later writes are modelled by the simulated disk only", nameof(options));
        Rng = randomness.Rng;
        Network = randomness.Network;
        Checker = new InvariantChecker(Describe);
        var voters = Enumerable.Range(1, nodes).Select(i => (ulong)i).ToArray();
        var learnerIds = Enumerable.Range(nodes + 1, learners).Select(i => (ulong)i).ToArray();
        var conf = new ConfState(voters, learnerIds);
        foreach (var id in conf.All)
            AddNode(id, conf);
    }

    public int Seed { get; }

    public Random Rng { get; }

    /// <summary>The harness's wire, with the simulator's faults.</summary>
    public SimNetwork Network { get; }

    public InvariantChecker Checker { get; }

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
        var node = Add(new SimNode(id, storage) { NextTick = Now + 1 + Rng.Next(_options.TickInterval) });
        Start(node);
        return node;
    }

    /// <summary>The seed's generator, and the network's, drawn from it first.</summary>
    private static (Random Rng, SimNetwork Network) Randomness(int seed)
    {
        var rng = new Random(seed);
        return (rng, new SimNetwork(new Random(rng.Next())));
    }

    private IRaftLogStore OpenStorage(ulong id, ConfState initial)
    {
        if (_options.StorageFactory is { } factory)
            return factory(id, initial);
        if (!_memoryStorage.TryGetValue(id, out var s))
        {
            s = new SimStorage(initial);
            _memoryStorage[id] = s;
        }
        return s;
    }

    /// <summary>What would survive a crash of <paramref name="node"/> now.</summary>
    internal static IRaftStorage DurableOf(SimNode node) => node.Storage is SimStorage s ? s.Durable : node.Storage;

    private void Start(SimNode node)
    {
        node.RestoreState(node.Storage.SnapshotData.Span);
        node.CheckedCommit = 0;
        // The commit index a restarted node starts from is the one on its disk, possibly older than the one it had.
        node.KnownCommit = node.Storage.HardState.Commit;
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
        Process(node);
    }

    // ---- Faults ----

    /// <summary>
    /// Crash: the process dies; only what its disk made durable survives. The writes queued since the last
    /// fsync are lost (half the time all of them, otherwise all but a random prefix: a crash mid-flush), or all but the
    /// first <paramref name="keepPending"/> of them if given.
    /// </summary>
    public void Crash(ulong id, int? keepPending = null)
    {
        var node = Nodes[id];
        if (!node.IsUp)
            return;
        node.Raft = null;
        if (node.Storage is SimStorage disk)
            disk.Crash(keepPending ?? (Rng.Next(2) == 0 ? 0 : Rng.Next(disk.PendingCount + 1)));
        node.PendingProposals.Clear();
        node.PendingReads.Clear();
        node.QueuedReads.Clear();
        node.QueuedProposals.Clear();
        node.Dirty = false;
        node.ConfigAtLastReady = null;
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
        if (_options.BatchedHost)
        {
            target.QueuedProposals.Add((op, data));
            return op;
        }
        var r = target.Raft!.Propose(data);
        if (!r.Accepted)
            return -1;
        target.PendingProposals[r.Index] = (r.Term, op);
        Process(target);
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
        Process(leader);
        return r;
    }

    /// <summary>How long a client waits for a leader before it gives up on a read (batched host).</summary>
    private const long ReadGiveUp = 2000;

    /// <summary>
    /// Starts a linearizable read at <paramref name="id"/>; returns false if it could not be sent. It must see every
    /// write acknowledged before now. A batched host takes it at its next batch, retrying while no leader is known.
    /// </summary>
    public bool Read(ulong id)
    {
        var node = Nodes[id];
        if (!node.IsUp)
            return false;
        var ctx = _nextOp++;
        var read = new PendingRead(ctx, id, Now, MaxAckedIndex);
        if (_options.BatchedHost)
        {
            node.QueuedReads.Add(read);
            return true;
        }
        if (!node.Raft!.ReadIndex(ContextOf(ctx)))
            return false;
        node.PendingReads[ctx] = read;
        Process(node);
        return true;
    }

    private static byte[] ContextOf(long ctx)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, ctx);
        return bytes;
    }

    public void TransferLeadership(ulong to)
    {
        var leader = ResolveLeader(null);
        if (leader is null)
            return;
        leader.Raft!.TransferLeadership(to);
        Process(leader);
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
}
