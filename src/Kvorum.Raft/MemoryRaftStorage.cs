namespace Kvorum.Raft;

/// <summary>
/// An in-memory <see cref="IRaftLogStore"/>, for tests, the simulator and embedders that keep their
/// own durability. "Persisted" here means "in this object".
/// </summary>
public sealed class MemoryRaftStorage : IRaftLogStore
{
    // Invariant: _entries.Start == _snapshot.Index + 1.
    private readonly ContiguousEntries _entries = new(1);
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
    public ulong LastIndex => _entries.Last;

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
        return _entries.TryGetTerm(index, out term);
    }

    /// <inheritdoc />
    public void GetEntries(ulong lo, ulong hi, long maxBytes, List<Entry> into) => _entries.GetEntries(lo, hi, maxBytes, into);

    /// <inheritdoc />
    public void Save(HardState? hardState, ReadOnlySpan<Entry> entries)
    {
        foreach (var e in entries)
        {
            // Entries already covered by the snapshot are skipped.
            if (e.Index > _snapshot.Index)
                _entries.Append(e);
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
        _entries.Reset(metadata.Index + 1);
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
        _entries.DropThrough(index);
        _snapshot = new SnapshotMetadata(index, term, confState);
        _snapshotData = data;
    }
}
