namespace Kvorum.Storage;

/// <summary>
/// A snapshot being received in chunks (from <see cref="DiskRaftStorage.ReceiveSnapshot"/>), written straight
/// to a temporary file: write the chunks as to any stream. Nothing changes in the log until
/// <see cref="Commit"/>; disposing without committing discards what was written. Writing is thread-safe only
/// in the sense that one thread may write and another may later commit or dispose.
/// </summary>
public sealed class SnapshotReceiver : SnapshotWriteStream
{
    private readonly DiskRaftStorage _storage;
    private bool _committed;

    internal SnapshotReceiver(DiskRaftStorage storage, SnapshotWriter writer)
        : base(writer) => _storage = storage;

    /// <summary>The snapshot's index.</summary>
    public ulong Index => Writer.Snapshot.Index;

    /// <summary>
    /// Makes the snapshot file durable, then records it in the WAL, replacing the whole log; older snapshot
    /// files and segments are removed only after that record is durable.
    /// </summary>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        Writer.Commit();
        _committed = true;
        _storage.InstallReceived(Writer.Snapshot);
    }
}
