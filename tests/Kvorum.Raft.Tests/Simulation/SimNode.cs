using System.Buffers.Binary;
using Kvorum.Raft.Harness;

namespace Kvorum.Raft.Tests.Simulation;

/// <summary>
/// One simulated server: a <see cref="RaftNode"/> (lost on crash), its storage (whose durable part is kept
/// across crashes, as a disk's would be: <see cref="SimStorage"/>), and a state machine that folds every applied
/// command into a running hash (its applied index is <see cref="HarnessNode.AppliedIndex"/>).
/// </summary>
internal sealed class SimNode(ulong id, IRaftLogStore storage) : HarnessNode(id, storage)
{
    /// <summary>Time of the node's next tick; nodes tick out of phase with each other.</summary>
    public long NextTick { get; set; }

    /// <summary>Whether the node is paused (alive, but neither ticking nor receiving).</summary>
    public bool Paused { get; set; }

    // The state machine: the applied index, and a running hash of every applied entry.
    public ulong AppliedHash { get; set; }

    public long AppliedCommands { get; set; }

    /// <summary>Proposals accepted by this node as leader, waiting to be applied: index → (term, client op id).</summary>
    public Dictionary<ulong, (ulong Term, long OpId)> PendingProposals { get; } = [];

    /// <summary>ReadIndex requests sent from this node: context → read.</summary>
    public Dictionary<long, PendingRead> PendingReads { get; } = [];

    /// <summary>Reads whose read index is known but not yet applied.</summary>
    public List<(PendingRead Read, ulong Index)> ReadsAwaitingApply { get; } = [];

    public SoftState Soft { get; set; }

    /// <summary>Client writes that reached a batched host since its last batch: (op id, command).</summary>
    public List<(long Op, byte[] Data)> QueuedProposals { get; } = [];

    /// <summary>Client reads that reached a batched host and are not yet with the core (retried while no leader is known).</summary>
    public List<PendingRead> QueuedReads { get; } = [];

    /// <summary>A batched host called into the core since it last processed a Ready.</summary>
    public bool Dirty { get; set; }

    /// <summary>The configuration when the last Ready was taken; null after a start.</summary>
    public ConfState? ConfigAtLastReady { get; set; }

    /// <summary>The highest commit index this node has reported in a hard state (since it started).</summary>
    public ulong KnownCommit { get; set; }

    /// <summary>Highest commit index whose entries the checker has recorded for this node.</summary>
    public ulong CheckedCommit { get; set; }

    public byte[] EncodeState()
    {
        var b = new byte[24];
        BinaryPrimitives.WriteUInt64LittleEndian(b, AppliedIndex);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), AppliedHash);
        BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(16), AppliedCommands);
        return b;
    }

    public void RestoreState(ReadOnlySpan<byte> b)
    {
        if (b.Length == 0)
        {
            AppliedIndex = 0;
            AppliedHash = 0;
            AppliedCommands = 0;
            return;
        }
        AppliedIndex = BinaryPrimitives.ReadUInt64LittleEndian(b);
        AppliedHash = BinaryPrimitives.ReadUInt64LittleEndian(b[8..]);
        AppliedCommands = BinaryPrimitives.ReadInt64LittleEndian(b[16..]);
    }

    public static ulong Fold(ulong hash, in Entry e)
    {
        // FNV-1a over (index, term, type, data): deterministic across processes, unlike HashCode.
        var h = hash == 0 ? 14695981039346656037UL : hash;
        h = Mix(h, e.Index);
        h = Mix(h, e.Term);
        h = Mix(h, (ulong)e.Type);
        foreach (var b in e.Data.Span)
        {
            h ^= b;
            h *= 1099511628211UL;
        }
        return h;
    }

    private static ulong Mix(ulong h, ulong v)
    {
        for (var i = 0; i < 8; i++)
        {
            h ^= (byte)(v >> (8 * i));
            h *= 1099511628211UL;
        }
        return h;
    }
}

/// <summary>A client read in progress.</summary>
internal sealed record PendingRead(long Context, ulong NodeId, long StartedAt, ulong MinIndex);
