namespace Kvorum.Raft.Harness;

/// <summary>
/// The host's side of the Ready contract for several <see cref="RaftNode"/>s in one process, shared by the tests and
/// the benchmarks as etcd-raft's rafttest shares its interaction environment: it takes each Ready of a node and, in
/// the contract's order, installs a received snapshot, persists, sends, applies, answers reads and advances; and it
/// delivers the messages in flight on its <see cref="MessageWire"/> (whose subclasses lose, delay, duplicate and
/// reorder them and cut links) at <see cref="Now"/>.
/// </summary>
/// <remarks>
/// Each step of a Ready is a virtual method, so that a host adds what it models or checks (the simulator's slow
/// disk and its invariant checks; a benchmark's delivery without copies) and nothing else runs: the same calls do
/// the same things in the same order, which is what makes a seeded simulation replay exactly. Single-threaded.
/// </remarks>
/// <typeparam name="TNode">The node type, which a host may extend with its own state.</typeparam>
internal class RaftHarness<TNode>
    where TNode : HarnessNode
{
    // Nodes in id order, walked by index so that a pass over them allocates nothing.
    private readonly List<TNode> _byId = [];

    public RaftHarness(MessageWire wire) => Wire = wire;

    /// <summary>The nodes by id; add them with <see cref="Add"/>.</summary>
    public SortedDictionary<ulong, TNode> Nodes { get; } = [];

    public MessageWire Wire { get; }

    /// <summary>The time messages are sent and fall due at; a host that models time moves it.</summary>
    public long Now { get; protected set; }

    /// <summary>Adds <paramref name="node"/>, or replaces the node with its id.</summary>
    public TNode Add(TNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var at = _byId.FindIndex(n => n.Id >= node.Id);
        if (at < 0)
            _byId.Add(node);
        else if (_byId[at].Id == node.Id)
            _byId[at] = node;
        else
            _byId.Insert(at, node);
        Nodes[node.Id] = node;
        return node;
    }

    /// <summary>Handles the node's Readies until it has none.</summary>
    public void ProcessReady(TNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        var raft = node.Raft ?? throw new InvalidOperationException($"node {node.Id} is down");
        while (raft.HasReady)
            HandleReady(node, raft);
    }

    /// <summary>Handles the Readies of every node that is up, in id order; returns whether there were any.</summary>
    public bool ProcessAllReady()
    {
        var any = false;
        for (var i = 0; i < _byId.Count; i++)
        {
            var node = _byId[i];
            if (node.Raft is { HasReady: true })
            {
                any = true;
                ProcessReady(node);
            }
        }
        return any;
    }

    /// <summary>Delivers the next message due by <see cref="Now"/>; returns false if none is.</summary>
    public bool DeliverNext()
    {
        if (!Wire.TryDeliver(Now, out var envelope))
            return false;
        Deliver(envelope);
        return true;
    }

    /// <summary>Delivers every message due by <see cref="Now"/>, and those their receivers send that fall due too.</summary>
    public void DeliverDue()
    {
        while (DeliverNext())
        {
        }
    }

    /// <summary>
    /// Hands a due message to its receiver: by default, a node that is up records the snapshot bytes that came with
    /// it (<see cref="ReceiveSnapshotData"/>), steps it and handles its Readies; a message to a node that is down or
    /// unknown is lost.
    /// </summary>
    protected virtual void Deliver(in Envelope envelope)
    {
        if (!Nodes.TryGetValue(envelope.Message.To, out var to) || to.Raft is not { } raft)
            return;
        ReceiveSnapshotData(to, envelope);
        raft.Step(envelope.Message);
        ProcessReady(to);
    }

    /// <summary>Keeps the bytes of a Snapshot message for the Ready that installs it.</summary>
    protected static void ReceiveSnapshotData(TNode to, in Envelope envelope)
    {
        ArgumentNullException.ThrowIfNull(to);
        if (envelope.Message.Type == MessageType.Snapshot && envelope.Message.Snapshot is { } snapshot)
            to.ReceivedSnapshots[snapshot.Index] = envelope.SnapshotData;
    }

    private void HandleReady(TNode node, RaftNode raft)
    {
        BeforeReady(node);
        var rd = raft.GetReady();
        var later = PersistsLater(node, rd);
        if (rd.Snapshot is { } snapshot)
            InstallSnapshot(node, snapshot);
        if (rd.HardState is not null || rd.Entries.Count > 0)
            Persist(node, rd, later);
        Persisted(node, rd);
        foreach (var message in rd.Messages)
            Send(node, message);
        var committed = rd.CommittedEntries;
        for (var i = 0; i < committed.Count; i++)
            Apply(node, committed[i]);
        ServeReads(node, rd);
        if (later)
            raft.AdvanceBeforePersisted();
        else
            raft.Advance();
        Advanced(node, rd);
    }

    /// <summary>Called just before a Ready is taken from the node's core.</summary>
    protected virtual void BeforeReady(TNode node)
    {
    }

    /// <summary>
    /// Whether the Ready's write is issued now and finished after Advance (<see cref="RaftNode.AdvanceBeforePersisted"/>,
    /// allowed if <see cref="Ready.MayPersistLater"/>); by default it is durable before Advance.
    /// </summary>
    protected virtual bool PersistsLater(TNode node, Ready ready) => false;

    /// <summary>Installs a snapshot received from the leader: its bytes came with the Snapshot message.</summary>
    protected virtual void InstallSnapshot(TNode node, SnapshotMetadata snapshot)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(snapshot);
        if (!node.ReceivedSnapshots.TryGetValue(snapshot.Index, out var data))
            throw new InvalidOperationException($"node {node.Id} told to install snapshot {snapshot.Index} it never received");
        node.Storage.ApplySnapshot(snapshot, data);
        node.AppliedIndex = snapshot.Index;
        node.ReceivedSnapshots.Clear();
    }

    /// <summary>Writes the Ready's hard state and entries (called only if it has either); <paramref name="later"/> as <see cref="PersistsLater"/> decided.</summary>
    protected virtual void Persist(TNode node, Ready ready, bool later)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(ready);
        node.Storage.Save(ready.HardState, ready.EntriesSpan);
    }

    /// <summary>Called after the persist step of every Ready, before its messages are sent.</summary>
    protected virtual void Persisted(TNode node, Ready ready)
    {
    }

    /// <summary>
    /// Sends one of the Ready's messages on the wire, with a copy of its entries (the core reuses them after
    /// Advance) and, for a Snapshot, the sender's snapshot bytes; returns false if the wire lost it at once.
    /// </summary>
    protected virtual bool Send(TNode node, in Message message)
    {
        ArgumentNullException.ThrowIfNull(node);
        var data = message.Type == MessageType.Snapshot ? node.Storage.SnapshotData : default;
        var copy = message.Entries.IsEmpty ? message : message with { Entries = message.Entries.ToArray() };
        return Wire.Send(Now, copy, data);
    }

    /// <summary>Applies one committed entry; by default, only its index is recorded.</summary>
    protected virtual void Apply(TNode node, in Entry entry)
    {
        ArgumentNullException.ThrowIfNull(node);
        node.AppliedIndex = entry.Index;
    }

    /// <summary>Answers the Ready's read states once its entries are applied; by default, nothing waits for them.</summary>
    protected virtual void ServeReads(TNode node, Ready ready)
    {
    }

    /// <summary>Called after Advance (or AdvanceBeforePersisted) of every Ready.</summary>
    protected virtual void Advanced(TNode node, Ready ready)
    {
    }
}
