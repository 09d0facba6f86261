using System.Buffers.Binary;
using System.Globalization;

namespace Kvorum.Storage;

/// <summary>
/// The snapshot files of a data directory (<c>&lt;data-dir&gt;/snap/{index:x16}-{fileId:x16}.snap</c>).
/// The WAL says which file is current; any other file is an older snapshot whose replacement is durable,
/// or a newer one whose WAL record never became durable, and <see cref="RemoveAllExcept"/> deletes it.
/// </summary>
internal sealed class SnapshotStore
{
    private const string Extension = ".snap";

    private readonly IFileSystem _fs;

    /// <summary>Uses (and creates) <paramref name="directory"/>.</summary>
    public SnapshotStore(IFileSystem fs, string directory)
    {
        _fs = fs;
        Directory = directory;
        fs.CreateDirectory(directory);
    }

    /// <summary>The snapshot directory.</summary>
    public string Directory { get; }

    /// <summary>Path of the file for <paramref name="snapshot"/>.</summary>
    public string PathOf(SnapshotRef snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        return Path.Combine(Directory, $"{snapshot.Index:x16}-{snapshot.FileId:x16}{Extension}");
    }

    /// <summary>Largest file id present on disk (including temporary files), or 0.</summary>
    public ulong MaxFileId()
    {
        ulong max = 0;
        foreach (var path in _fs.EnumerateFiles(Directory, ""))
        {
            var name = Path.GetFileName(path);
            if (name.Length >= 33 && name[16] == '-'
                && ulong.TryParse(name.AsSpan(17, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var id))
                max = Math.Max(max, id);
        }
        return max;
    }

    /// <summary>Starts writing the file for <paramref name="snapshot"/>.</summary>
    public SnapshotWriter BeginWrite(SnapshotRef snapshot) => new(_fs, snapshot, PathOf(snapshot));

    /// <summary>
    /// Opens the data of <paramref name="snapshot"/> after checking the file's checksum and that its header
    /// matches what the WAL recorded.
    /// </summary>
    /// <exception cref="WalCorruptException">The file is missing, damaged or for another snapshot.</exception>
    public Stream OpenData(SnapshotRef snapshot)
    {
        var path = PathOf(snapshot);
        IStorageFile file;
        try
        {
            file = _fs.Open(path, FileMode.Open, FileAccess.Read);
        }
        catch (FileNotFoundException e)
        {
            throw new WalCorruptException(path, 0, $"snapshot file for index {snapshot.Index} recorded in the WAL is missing", e);
        }
        try
        {
            var (start, length) = Verify(file, path, snapshot);
            return new SnapshotDataStream(file, start, length);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Reads all the data of <paramref name="snapshot"/> (empty for file id 0).</summary>
    public byte[] ReadAll(SnapshotRef snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        if (snapshot.FileId == 0)
            return [];
        using var data = OpenData(snapshot);
        var bytes = new byte[data.Length];
        data.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>
    /// Deletes every snapshot file except the one with <paramref name="keepFileId"/>, and leftover temporary
    /// files if <paramref name="includeTemporary"/> (only on open: at run time one may be a snapshot being received).
    /// Files whose ids are in <paramref name="alsoKeep"/> (snapshots prepared but not yet committed) stay too.
    /// </summary>
    public void RemoveAllExcept(ulong keepFileId, bool includeTemporary, ReadOnlySpan<ulong> alsoKeep = default)
    {
        var removed = false;
        foreach (var path in _fs.EnumerateFiles(Directory, ""))
        {
            var name = Path.GetFileName(path);
            if (!includeTemporary && name.EndsWith(".tmp", StringComparison.Ordinal))
                continue;
            var isCurrent = name.EndsWith(Extension, StringComparison.Ordinal) && name.Length >= 33
                && ulong.TryParse(name.AsSpan(17, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var id)
                && ((id == keepFileId && keepFileId != 0) || alsoKeep.Contains(id));
            if (!isCurrent)
            {
                _fs.Delete(path);
                removed = true;
            }
        }
        if (removed)
            _fs.SyncDirectory(Directory);
    }

    private static (long Start, long Length) Verify(IStorageFile file, string path, SnapshotRef expected)
    {
        var total = file.Length;
        if (total < 12 + SnapshotFormat.TrailerSize)
            throw new WalCorruptException(path, 0, $"snapshot file too short ({total} bytes)");
        var crc = Crc32C.Start;
        var buffer = new byte[1 << 16];
        var headerBytes = new byte[(int)Math.Min(total, 1 << 20)];
        ReadExactly(file, path, 0, headerBytes);
        (SnapshotRef Snapshot, int HeaderLength) header;
        try
        {
            header = SnapshotFormat.DecodeHeader(headerBytes);
        }
        catch (FormatException e)
        {
            throw new WalCorruptException(path, 0, e.Message, e);
        }
        if (header.Snapshot != expected)
            throw new WalCorruptException(path, 0, $"snapshot file holds {header.Snapshot.Metadata}, the WAL expects {expected.Metadata}");

        var checkedUpTo = total - 4;
        long pos = 0;
        while (pos < checkedUpTo)
        {
            var n = file.Read(pos, buffer.AsSpan(0, (int)Math.Min(buffer.Length, checkedUpTo - pos)));
            if (n == 0)
                throw new WalCorruptException(path, pos, "snapshot file ended early");
            crc = Crc32C.Append(crc, buffer.AsSpan(0, n));
            pos += n;
        }
        var trailer = new byte[SnapshotFormat.TrailerSize];
        ReadExactly(file, path, total - SnapshotFormat.TrailerSize, trailer);
        var dataLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(trailer);
        var stored = BinaryPrimitives.ReadUInt32LittleEndian(trailer.AsSpan(8));
        if (Crc32C.Finish(crc) != stored)
            throw new WalCorruptException(path, total - 4, "snapshot file checksum mismatch");
        if (dataLength != total - header.HeaderLength - SnapshotFormat.TrailerSize)
            throw new WalCorruptException(path, total - SnapshotFormat.TrailerSize, $"snapshot data length {dataLength} does not fit the file size {total}");
        return (header.HeaderLength, dataLength);
    }

    private static void ReadExactly(IStorageFile file, string path, long offset, Span<byte> into)
    {
        while (!into.IsEmpty)
        {
            var n = file.Read(offset, into);
            if (n == 0)
                throw new WalCorruptException(path, offset, "snapshot file ended early");
            offset += n;
            into = into[n..];
        }
    }
}
