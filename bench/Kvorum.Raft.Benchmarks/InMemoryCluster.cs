using Kvorum.Raft.Harness;

namespace Kvorum.Raft.Benchmarks;

/// <summary>
/// A lossless, synchronous cluster for benchmarks on the shared <see cref="RaftHarness{TNode}"/>: every Ready is
/// handled and every message stepped into its receiver at once, without a copy or a wire.
/// </summary>
internal sealed class InMemoryCluster : RaftHarness<HarnessNode>
{
    // The cores by id - 1, for stepping a message into its receiver without a lookup.
    private readonly RaftNode[] _cores;
    private readonly HarnessNode _leader;

    public InMemoryCluster(int size)
        : base(new MessageWire())
    {
        var conf = new ConfState(Enumerable.Range(1, size).Select(i => (ulong)i), []);
        _cores = new RaftNode[size];
        for (var i = 0; i < size; i++)
        {
            var storage = new MemoryRaftStorage(conf);
            _cores[i] = new RaftNode(new RaftConfig { Id = (ulong)i + 1, Storage = storage, Random = new Random(i) });
            Add(new HarnessNode((ulong)i + 1, storage) { Raft = _cores[i] });
        }
        _leader = Nodes[1];
    }

    public RaftNode Leader => _cores[0];

    /// <summary>The leader's applied index.</summary>
    public ulong Applied => _leader.AppliedIndex;

    public void ElectLeader()
    {
        Leader.Campaign();
        DriveUntilQuiet();
        if (Leader.Status.Role != StateRole.Leader)
            throw new InvalidOperationException("node 1 did not become leader");
    }

    /// <summary>Handles Readies (which deliver their messages) until none is left; returns the leader's applied index.</summary>
    public ulong DriveUntilQuiet()
    {
        while (ProcessAllReady())
        {
        }
        return Applied;
    }

    // Delivered before Advance: message entries are slices of a buffer the core reuses afterwards, and a receiver
    // copies them into its own log when stepping them.
    protected override bool Send(HarnessNode node, in Message message)
    {
        _cores[message.To - 1].Step(message);
        return true;
    }

    // Keep memory flat: compact what everyone applied long ago.
    protected override void Advanced(HarnessNode node, Ready ready)
    {
        if (node == _leader && Applied > 20_000 && Applied % 10_000 < 64)
            CompactAll(Applied - 1000);
    }

    private void CompactAll(ulong index)
    {
        for (var i = 0; i < _cores.Length; i++)
        {
            var storage = Nodes[(ulong)i + 1].Storage;
            if (storage.Snapshot.Index < index && _cores[i].Status.Applied >= index)
                storage.CreateSnapshot(index, _cores[i].ConfStateAt(index), ReadOnlyMemory<byte>.Empty);
        }
    }
}
