namespace Kvorum.Storage;

/// <summary>
/// A snapshot being received in chunks (from <see cref="DiskRaftStorage.ReceiveSnapshot"/>). Nothing changes
/// in the log until <see cref="Commit"/>; disposing without committing discards what was written.
/// </summary>
public sealed class SnapshotReceiver : IDisposable
{
    private readonly DiskRaftStorage _storage;
    private readonly SnapshotWriter _writer;
    private bool _committed;

    internal SnapshotReceiver(DiskRaftStorage storage, SnapshotWriter writer)
    {
        _storage = storage;
        _writer = writer;
    }

    /// <summary>Bytes received so far.</summary>
    public long Length => _writer.DataLength;

    /// <summary>Appends the next chunk of the snapshot's data.</summary>
    public void Write(ReadOnlySpan<byte> chunk) => _writer.Write(chunk);

    /// <summary>
    /// Makes the snapshot file durable, then records it in the WAL, replacing the whole log; older snapshot
    /// files and segments are removed only after that record is durable.
    /// </summary>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        _writer.Commit();
        _committed = true;
        _storage.InstallReceived(_writer.Snapshot);
    }

    /// <summary>Discards an uncommitted snapshot.</summary>
    public void Dispose() => _writer.Dispose();
}
