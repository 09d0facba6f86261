namespace Kvorum.Storage;

/// <summary>
/// A snapshot whose file <see cref="DiskRaftStorage.PrepareSnapshot"/> wrote and made durable, waiting for
/// <see cref="DiskRaftStorage.CommitSnapshot"/> to make it current.
/// </summary>
public sealed class PreparedSnapshot
{
    internal PreparedSnapshot(SnapshotRef snapshot, ReadOnlyMemory<byte> data)
    {
        Snapshot = snapshot;
        Data = data;
    }

    /// <summary>The applied index the snapshot reflects.</summary>
    public ulong Index => Snapshot.Index;

    internal SnapshotRef Snapshot { get; }

    internal ReadOnlyMemory<byte> Data { get; }
}
