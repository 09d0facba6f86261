using System.Diagnostics.CodeAnalysis;

namespace Kvorum.Raft.Harness;

/// <summary>
/// One server of a <see cref="RaftHarness{TNode}"/>: its core (null while it is down), its storage, the index it
/// has applied, and the snapshot bytes that arrived beside Snapshot messages. A host extends it with its own state
/// (the simulator's state machine and clients).
/// </summary>
[SuppressMessage("Performance", "CA1852:Seal internal types", Justification = "The simulator extends it; the benchmark, which compiles the same file, does not.")]
internal class HarnessNode
{
    public HarnessNode(ulong id, IRaftLogStore storage)
    {
        Id = id;
        Storage = storage;
    }

    public ulong Id { get; }

    /// <summary>What the core reads and the harness persists to; a host may replace it across a restart.</summary>
    public IRaftLogStore Storage { get; set; }

    /// <summary>The core; null while the server is down.</summary>
    public RaftNode? Raft { get; set; }

    public bool IsUp => Raft is not null;

    /// <summary>The last entry applied (or the index of the snapshot installed last).</summary>
    public ulong AppliedIndex { get; set; }

    /// <summary>Snapshot bytes received with a Snapshot message, by snapshot index, until the core installs one.</summary>
    public Dictionary<ulong, ReadOnlyMemory<byte>> ReceivedSnapshots { get; } = [];
}
