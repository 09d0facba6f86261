namespace Kvorum.Storage;

/// <summary>
/// A snapshot whose file <see cref="DiskRaftStorage.PrepareSnapshot(ulong, Kvorum.Raft.ConfState, ReadOnlyMemory{byte})"/> wrote and made durable, waiting for
/// <see cref="DiskRaftStorage.CommitSnapshot"/> to make it current.
/// </summary>
public sealed class PreparedSnapshot
{
    internal PreparedSnapshot(SnapshotRef snapshot, ReadOnlyMemory<byte>? data)
    {
        Snapshot = snapshot;
        Data = data;
    }

    /// <summary>The applied index the snapshot reflects.</summary>
    public ulong Index => Snapshot.Index;

    internal SnapshotRef Snapshot { get; }

    /// <summary>The data, when the caller gave it as bytes; null when it was streamed to the file.</summary>
    internal ReadOnlyMemory<byte>? Data { get; }
}
