namespace Kvorum.Raft;

/// <summary>
/// What the core knows about a snapshot (paper §7): the last log entry it replaces and the
/// configuration as of that entry. The snapshot's bytes stay with the host.
/// </summary>
/// <param name="Index">Index of the last entry the snapshot includes.</param>
/// <param name="Term">Term of that entry.</param>
/// <param name="ConfState">Membership as of <paramref name="Index"/>.</param>
public sealed record SnapshotMetadata(ulong Index, ulong Term, ConfState ConfState)
{
    /// <summary>No snapshot: index 0, term 0, empty configuration.</summary>
    public static readonly SnapshotMetadata Empty = new(0, 0, ConfState.Empty);

    /// <summary>True if this is <see cref="Empty"/>.</summary>
    public bool IsEmpty => Index == 0;
}
