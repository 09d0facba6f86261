namespace Kvorum.Storage;

/// <summary>
/// Writes one snapshot file: header, data in chunks, trailer. The file is built under a temporary name;
/// <see cref="Commit"/> flushes it, renames it into place and flushes the directory, so a snapshot file
/// with its final name is always complete. Disposing without committing deletes the temporary file.
/// </summary>
internal sealed class SnapshotWriter : IDisposable
{
    private readonly IFileSystem _fs;
    private readonly IStorageFile _file;
    private readonly WriteBehind? _writeBehind;
    private readonly byte[] _buffer = new byte[1 << 16];
    private int _buffered;
    private long _written;
    private readonly string _tempPath;
    private readonly string _finalPath;
    private readonly string _directory;
    private uint _crc = Crc32C.Start;
    private long _dataLength;
    private bool _done;

    /// <summary>Starts the file for <paramref name="snapshot"/> at <paramref name="finalPath"/>.</summary>
    public SnapshotWriter(IFileSystem fs, SnapshotRef snapshot, string finalPath)
    {
        ArgumentNullException.ThrowIfNull(fs);
        ArgumentNullException.ThrowIfNull(snapshot);
        _fs = fs;
        Snapshot = snapshot;
        _finalPath = finalPath;
        _tempPath = finalPath + ".tmp";
        _directory = Path.GetDirectoryName(finalPath)!;
        _file = fs.Open(_tempPath, FileMode.Create, FileAccess.Write);
        _writeBehind = _file.Handle is { } handle ? new WriteBehind(handle) : null;
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
        Buffer(SnapshotFormat.EncodeTrailer(_dataLength, _crc));
        Drain();
        _file.Sync();
        _file.Dispose();
        _fs.Move(_tempPath, _finalPath);
        _fs.SyncDirectory(_directory);
        _done = true;
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        _crc = Crc32C.Append(_crc, bytes);
        Buffer(bytes);
        if (_writeBehind is not null && _writeBehind.IsDue(_written + _buffered))
        {
            // Hand the buffered bytes to the kernel and let them trickle to the disk (see WriteBehind).
            Drain();
            _writeBehind.Written(_written);
        }
    }

    private void Buffer(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            if (_buffered == _buffer.Length)
                Drain();
            var n = Math.Min(bytes.Length, _buffer.Length - _buffered);
            bytes[..n].CopyTo(_buffer.AsSpan(_buffered));
            _buffered += n;
            bytes = bytes[n..];
        }
    }

    private void Drain()
    {
        if (_buffered == 0)
            return;
        _file.Write(_written, _buffer.AsSpan(0, _buffered));
        _written += _buffered;
        _buffered = 0;
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
            _fs.Delete(_tempPath);
        }
        catch (IOException)
        {
            // Left for the next open to clean up.
        }
    }
}
