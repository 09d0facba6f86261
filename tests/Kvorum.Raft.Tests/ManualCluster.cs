namespace Kvorum.Raft.Tests;

/// <summary>
/// A lossless, hand-driven cluster for rule-by-rule tests: nodes start from hand-made logs, nothing
/// ticks unless told, and <see cref="Deliver"/> passes messages until none are left.
/// </summary>
internal sealed class ManualCluster
{
    private readonly Queue<Message> _wire = new();

    public ManualCluster(
        ConfState conf, Dictionary<ulong, (ulong Term, ulong[] LogTerms)> nodes, bool preVote = false, ReadOnlyOption readOnly = ReadOnlyOption.Safe, bool checkQuorum = false)
    {
        foreach (var (id, (term, logTerms)) in nodes)
        {
            var storage = new MemoryRaftStorage();
            storage.ApplySnapshot(new SnapshotMetadata(0, 0, conf), ReadOnlyMemory<byte>.Empty);
            var entries = logTerms.Select((t, i) => new Entry((ulong)i + 1, t, new byte[] { (byte)t, (byte)i })).ToArray();
            storage.Save(new HardState(term, 0, 0), entries);
            Storage[id] = storage;
            Nodes[id] = new RaftNode(new RaftConfig
            {
                Id = id,
                Storage = storage,
                Random = new Random((int)id),
                PreVote = preVote,
                CheckQuorum = checkQuorum || readOnly == ReadOnlyOption.LeaseBased, // leases need it (thesis §6.4.1)
                ReadOnlyOption = readOnly,
            });
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

    /// <summary>Links that lose every message.</summary>
    public HashSet<(ulong, ulong)> Cut { get; } = [];

    /// <summary>Called after every delivered message, to check a property at each step.</summary>
    public Action? AfterEachMessage { get; set; }

    public void Pump()
    {
        foreach (var (id, node) in Nodes)
        {
            while (node.HasReady)
            {
                var rd = node.GetReady();
                Storage[id].Save(rd.HardState, rd.EntriesSpan);
                foreach (var m in rd.Messages)
                    _wire.Enqueue(m.Entries.IsEmpty ? m : m with { Entries = m.Entries.ToArray() });
                if (rd.ReadStates.Count > 0)
                {
                    if (!ReadStates.TryGetValue(id, out var reads))
                        ReadStates[id] = reads = [];
                    reads.AddRange(rd.ReadStates);
                }
                node.Advance();
            }
        }
    }

    /// <summary>Delivers messages (and the messages they cause) until the wire is empty.</summary>
    public void Deliver(int maxMessages = 100_000)
    {
        Pump();
        for (var i = 0; i < maxMessages && _wire.Count > 0; i++)
        {
            var m = _wire.Dequeue();
            if (Cut.Contains((m.From, m.To)) || !Nodes.TryGetValue(m.To, out var to))
                continue;
            Delivered[m.Type] = Delivered.GetValueOrDefault(m.Type) + 1;
            Trace.Add((m.Type, m.From, m.To));
            to.Step(m);
            Pump();
            AfterEachMessage?.Invoke();
        }
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
}
