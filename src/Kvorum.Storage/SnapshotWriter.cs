namespace Kvorum.Storage;

/// <summary>
/// Writes one snapshot file: header, data in chunks, trailer. The file is built under a temporary name;
/// <see cref="Commit"/> flushes it, renames it into place and flushes the directory, so a snapshot file
/// with its final name is always complete. Disposing without committing deletes the temporary file.
/// </summary>
internal sealed class SnapshotWriter : IDisposable
{
    private readonly FileStream _file;
    private readonly WriteBehind _writeBehind;
    private readonly string _tempPath;
    private readonly string _finalPath;
    private readonly string _directory;
    private uint _crc = Crc32C.Start;
    private long _dataLength;
    private bool _done;

    /// <summary>Starts the file for <paramref name="snapshot"/> at <paramref name="finalPath"/>.</summary>
    public SnapshotWriter(SnapshotRef snapshot, string finalPath)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        Snapshot = snapshot;
        _finalPath = finalPath;
        _tempPath = finalPath + ".tmp";
        _directory = Path.GetDirectoryName(finalPath)!;
        _file = new FileStream(_tempPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        _writeBehind = new WriteBehind(_file.SafeFileHandle);
        Append(SnapshotFormat.EncodeHeader(snapshot));
    }

    /// <summary>The snapshot being written.</summary>
    public SnapshotRef Snapshot { get; }

    /// <summary>Bytes of data written so far.</summary>
    public long DataLength => _dataLength;

    /// <summary>Appends a chunk of the snapshot's data.</summary>
    public void Write(ReadOnlySpan<byte> chunk)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        Append(chunk);
        _dataLength += chunk.Length;
    }

    /// <summary>Makes the file durable under its final name.</summary>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_done, this);
        _file.Write(SnapshotFormat.EncodeTrailer(_dataLength, _crc));
        _file.Flush(flushToDisk: true);
        _file.Dispose();
        File.Move(_tempPath, _finalPath, overwrite: true);
        DirectorySync.Flush(_directory);
        _done = true;
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        _crc = Crc32C.Append(_crc, bytes);
        _file.Write(bytes);
        if (_writeBehind.IsDue(_file.Position))
        {
            // Hand the buffered bytes to the kernel and let them trickle to the disk (see WriteBehind).
            _file.Flush(flushToDisk: false);
            _writeBehind.Written(_file.Position);
        }
    }

    /// <summary>Abandons an uncommitted file.</summary>
    public void Dispose()
    {
        if (_done)
            return;
        _done = true;
        _file.Dispose();
        try
        {
            File.Delete(_tempPath);
        }
        catch (IOException)
        {
            // Left for the next open to clean up.
        }
    }
}
