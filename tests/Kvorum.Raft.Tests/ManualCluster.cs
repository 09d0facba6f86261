using Kvorum.Raft.Harness;

namespace Kvorum.Raft.Tests;

/// <summary>
/// A lossless, hand-driven cluster for rule-by-rule tests, on the shared <see cref="RaftHarness{TNode}"/> with a wire
/// that delivers in sending order: nodes start from hand-made logs, nothing ticks unless told, and
/// <see cref="Deliver"/> passes messages until none are left. This class keeps the tests' vocabulary: the cores and
/// storages by id, the messages delivered, the read states, the cut links.
/// </summary>
internal sealed class ManualCluster
{
    private readonly Loop _loop;

    public ManualCluster(
        ConfState conf, Dictionary<ulong, (ulong Term, ulong[] LogTerms)> nodes, bool preVote = false, ReadOnlyOption readOnly = ReadOnlyOption.Safe, bool checkQuorum = false)
    {
        _loop = new Loop(this);
        foreach (var (id, (term, logTerms)) in nodes)
        {
            var storage = new MemoryRaftStorage();
            storage.ApplySnapshot(new SnapshotMetadata(0, 0, conf), ReadOnlyMemory<byte>.Empty);
            var entries = logTerms.Select((t, i) => new Entry((ulong)i + 1, t, new byte[] { (byte)t, (byte)i })).ToArray();
            storage.Save(new HardState(term, 0, 0), entries);
            var raft = new RaftNode(new RaftConfig
            {
                Id = id,
                Storage = storage,
                Random = new Random((int)id),
                PreVote = preVote,
                CheckQuorum = checkQuorum || readOnly == ReadOnlyOption.LeaseBased, // leases need it (thesis §6.4.1)
                ReadOnlyOption = readOnly,
            });
            _loop.Add(new HarnessNode(id, storage) { Raft = raft });
            Storage[id] = storage;
            Nodes[id] = raft;
        }
    }

    /// <summary>Members 1, 2 and 3 with the same one-entry log, member 1 elected leader and everyone caught up.</summary>
    public static ManualCluster ThreeLedByOne()
    {
        var c = new ManualCluster(ConfState.OfVoters(1, 2, 3), new()
        {
            [1] = (1, [1]),
            [2] = (1, [1]),
            [3] = (1, [1]),
        });
        c.Nodes[1].Campaign();
        c.Deliver();
        if (c.Nodes[1].Status.Role != StateRole.Leader)
            throw new InvalidOperationException("member 1 did not win the election");
        return c;
    }

    public Dictionary<ulong, RaftNode> Nodes { get; } = [];

    public Dictionary<ulong, MemoryRaftStorage> Storage { get; } = [];

    /// <summary>Messages delivered, by type.</summary>
    public Dictionary<MessageType, int> Delivered { get; } = [];

    /// <summary>Every message delivered, in order: (type, from, to).</summary>
    public List<(MessageType Type, ulong From, ulong To)> Trace { get; } = [];

    /// <summary>Read points each node's Readies carried, in order.</summary>
    public Dictionary<ulong, List<ReadState>> ReadStates { get; } = [];

    /// <summary>Links that lose every message, as (from, to).</summary>
    public HashSet<(ulong From, ulong To)> Cut => _loop.Wire.Blocked;

    /// <summary>Called after every delivered message, to check a property at each step.</summary>
    public Action? AfterEachMessage { get; set; }

    /// <summary>Handles every node's Readies: their messages go on the wire.</summary>
    public void Pump() => _loop.ProcessAllReady();

    /// <summary>Delivers messages (and the messages they cause) until the wire is empty.</summary>
    public void Deliver(int maxMessages = 100_000)
    {
        Pump();
        for (var i = 0; i < maxMessages && _loop.DeliverNext(); i++)
        {
        }
    }

    /// <summary>
    /// Handles node <paramref name="id"/>'s Readies and returns the messages they sent, taken off the wire instead of
    /// delivered: a test then delivers (or holds back) each one itself.
    /// </summary>
    public List<Message> TakeSent(ulong id)
    {
        _loop.ProcessReady(_loop.Nodes[id]);
        return _loop.Wire.TakeFrom(id);
    }

    public ulong[] LogTerms(ulong id)
    {
        var s = Storage[id];
        var result = new List<ulong>();
        for (var i = s.FirstIndex; i <= s.LastIndex; i++)
        {
            s.TryGetTerm(i, out var t);
            result.Add(t);
        }
        return [.. result];
    }

    /// <summary>The harness with what the tests observe: every delivery counted and traced, every read state kept.</summary>
    private sealed class Loop(ManualCluster cluster) : RaftHarness<HarnessNode>(new MessageWire())
    {
        protected override void Deliver(in Envelope envelope)
        {
            var m = envelope.Message;
            if (!Nodes.TryGetValue(m.To, out var to))
                return;
            cluster.Delivered[m.Type] = cluster.Delivered.GetValueOrDefault(m.Type) + 1;
            cluster.Trace.Add((m.Type, m.From, m.To));
            ReceiveSnapshotData(to, envelope);
            to.Raft!.Step(m);
            cluster.Pump();
            cluster.AfterEachMessage?.Invoke();
        }

        protected override void ServeReads(HarnessNode node, Ready ready)
        {
            if (ready.ReadStates.Count == 0)
                return;
            if (!cluster.ReadStates.TryGetValue(node.Id, out var reads))
                cluster.ReadStates[node.Id] = reads = [];
            reads.AddRange(ready.ReadStates);
        }
    }
}
