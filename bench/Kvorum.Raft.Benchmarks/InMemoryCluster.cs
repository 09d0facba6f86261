namespace Kvorum.Raft.Benchmarks;

/// <summary>A lossless, synchronous cluster for benchmarks: every Ready is handled and every message delivered at once.</summary>
internal sealed class InMemoryCluster
{
    private readonly RaftNode[] _nodes;
    private readonly MemoryRaftStorage[] _storage;

    public InMemoryCluster(int size)
    {
        var conf = new ConfState(Enumerable.Range(1, size).Select(i => (ulong)i), []);
        _nodes = new RaftNode[size];
        _storage = new MemoryRaftStorage[size];
        for (var i = 0; i < size; i++)
        {
            _storage[i] = new MemoryRaftStorage(conf);
            _nodes[i] = new RaftNode(new RaftConfig { Id = (ulong)i + 1, Storage = _storage[i], Random = new Random(i) });
        }
    }

    public RaftNode Leader => _nodes[0];

    public ulong Applied { get; private set; }

    public void ElectLeader()
    {
        _nodes[0].Campaign();
        DriveUntilQuiet();
        if (_nodes[0].Status.Role != StateRole.Leader)
            throw new InvalidOperationException("node 1 did not become leader");
    }

    /// <summary>Handles Readies and delivers messages until nothing is left; returns the leader's applied index.</summary>
    public ulong DriveUntilQuiet()
    {
        var progress = true;
        while (progress)
        {
            progress = false;
            for (var i = 0; i < _nodes.Length; i++)
            {
                var node = _nodes[i];
                while (node.HasReady)
                {
                    progress = true;
                    var rd = node.GetReady();
                    if (rd.Entries.Count > 0 || rd.HardState is not null)
                        _storage[i].Save(rd.HardState, rd.EntriesSpan);
                    if (i == 0 && rd.CommittedEntries.Count > 0)
                        Applied = rd.CommittedEntries[^1].Index;
                    // Deliver before Advance: message entries are slices of a buffer the core reuses
                    // afterwards, and a receiver copies them into its own log when stepping them.
                    foreach (var m in rd.Messages)
                        _nodes[m.To - 1].Step(m);
                    node.Advance();
                    // Keep memory flat: compact what everyone applied long ago.
                    if (i == 0 && Applied > 20_000 && Applied % 10_000 < 64)
                        CompactAll(Applied - 1000);
                }
            }
        }
        return Applied;
    }

    private void CompactAll(ulong index)
    {
        for (var i = 0; i < _nodes.Length; i++)
        {
            if (_storage[i].Snapshot.Index < index && _nodes[i].Status.Applied >= index)
                _storage[i].CreateSnapshot(index, _nodes[i].ConfStateAt(index), ReadOnlyMemory<byte>.Empty);
        }
    }
}
