using Kvorum.Raft;

namespace Kvorum.Storage;

/// <summary>
/// A snapshot as the WAL records it: the Raft metadata plus the id of the file holding its data.
/// File id 0 means "no file": the snapshot is the empty initial state (index 0) and its data is empty.
/// </summary>
/// <param name="Metadata">Index, term and configuration.</param>
/// <param name="FileId">Id of the snapshot file (unique, increasing), or 0.</param>
internal sealed record SnapshotRef(SnapshotMetadata Metadata, ulong FileId)
{
    /// <summary>No snapshot and no file.</summary>
    public static readonly SnapshotRef Empty = new(SnapshotMetadata.Empty, 0);

    /// <summary>Index of the last entry the snapshot covers.</summary>
    public ulong Index => Metadata.Index;
}
