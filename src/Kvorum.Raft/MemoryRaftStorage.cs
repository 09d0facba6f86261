namespace Kvorum.Raft;

/// <summary>
/// An in-memory <see cref="IRaftLogStore"/>, for tests, the simulator and embedders that keep their
/// own durability. "Persisted" here means "in this object".
/// </summary>
public sealed class MemoryRaftStorage : IRaftLogStore
{
    // Invariant: _entries[i].Index == _snapshot.Index + 1 + i.
    private readonly List<Entry> _entries = [];
    private SnapshotMetadata _snapshot = SnapshotMetadata.Empty;
    private ReadOnlyMemory<byte> _snapshotData;

    /// <summary>Creates an empty log.</summary>
    public MemoryRaftStorage()
    {
    }

    /// <summary>Creates a log bootstrapped with <paramref name="initial"/> (see <see cref="RaftBootstrap"/>), or empty for a joining server.</summary>
    public MemoryRaftStorage(ConfState initial)
    {
        ArgumentNullException.ThrowIfNull(initial);
        if (initial.Voters.Length > 0 || initial.Learners.Length > 0)
            RaftBootstrap.Write(this, initial);
    }

    /// <inheritdoc />
    public HardState HardState { get; private set; }

    /// <inheritdoc />
    public SnapshotMetadata Snapshot => _snapshot;

    /// <inheritdoc />
    public ReadOnlyMemory<byte> SnapshotData => _snapshotData;

    /// <inheritdoc />
    public ulong FirstIndex => _snapshot.Index + 1;

    /// <inheritdoc />
    public ulong LastIndex => _snapshot.Index + (ulong)_entries.Count;

    /// <summary>Number of entries held (not counting the snapshot).</summary>
    public int Count => _entries.Count;

    /// <inheritdoc />
    public bool TryGetTerm(ulong index, out ulong term)
    {
        if (index == _snapshot.Index)
        {
            term = _snapshot.Term;
            return true;
        }
        if (index < _snapshot.Index || index > LastIndex)
        {
            term = 0;
            return false;
        }
        term = _entries[(int)(index - _snapshot.Index - 1)].Term;
        return true;
    }

    /// <inheritdoc />
    public void GetEntries(ulong lo, ulong hi, long maxBytes, List<Entry> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        if (lo < FirstIndex)
            throw new ArgumentOutOfRangeException(nameof(lo), $"index {lo} is compacted (first index {FirstIndex})");
        if (hi > LastIndex + 1 || lo > hi)
            throw new ArgumentOutOfRangeException(nameof(hi), $"range [{lo}, {hi}) is past the last index {LastIndex}");
        long size = 0;
        for (var i = lo; i < hi; i++)
        {
            var e = _entries[(int)(i - FirstIndex)];
            size += e.Size;
            if (size > maxBytes && i > lo)
                break;
            into.Add(e);
        }
    }

    /// <inheritdoc />
    public void Save(HardState? hardState, ReadOnlySpan<Entry> entries)
    {
        if (!entries.IsEmpty)
        {
            var first = entries[0].Index;
            if (first <= _snapshot.Index)
            {
                // Entries already covered by the snapshot are skipped.
                var skip = (int)Math.Min((ulong)entries.Length, _snapshot.Index + 1 - first);
                entries = entries[skip..];
                first = entries.IsEmpty ? 0 : entries[0].Index;
            }
            if (!entries.IsEmpty)
            {
                if (first > LastIndex + 1)
                    throw new InvalidOperationException($"gap in log: appending {first} after {LastIndex}");
                var keep = (int)(first - FirstIndex);
                if (keep < _entries.Count)
                    _entries.RemoveRange(keep, _entries.Count - keep);
                foreach (var e in entries)
                    _entries.Add(e);
            }
        }
        if (hardState is { } hs)
            HardState = hs;
    }

    /// <inheritdoc />
    public void ApplySnapshot(SnapshotMetadata metadata, ReadOnlyMemory<byte> data)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (metadata.Index < _snapshot.Index)
            throw new InvalidOperationException($"snapshot {metadata.Index} is older than {_snapshot.Index}");
        _entries.Clear();
        _snapshot = metadata;
        _snapshotData = data;
    }

    /// <inheritdoc />
    public void CreateSnapshot(ulong index, ConfState confState, ReadOnlyMemory<byte> data)
    {
        ArgumentNullException.ThrowIfNull(confState);
        if (index <= _snapshot.Index)
            return;
        if (!TryGetTerm(index, out var term))
            throw new ArgumentOutOfRangeException(nameof(index), $"index {index} is past the last index {LastIndex}");
        var drop = (int)(index - _snapshot.Index);
        _entries.RemoveRange(0, drop);
        _snapshot = new SnapshotMetadata(index, term, confState);
        _snapshotData = data;
    }
}
