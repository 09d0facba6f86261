using Microsoft.Win32.SafeHandles;

namespace Kvorum.Storage;

/// <summary>
/// Every file-system operation the storage makes, behind one narrow seam, so that a test can replace the disk
/// with a simulated one that loses, at a power cut, whatever was not made durable (see
/// <c>docs/storage.md</c>). <see cref="OsFileSystem"/> is the real one.
/// </summary>
/// <remarks>
/// Durability contract the storage relies on, and the simulated disk enforces: a file's bytes and size are
/// durable once <see cref="IStorageFile.Sync"/> returns; a name (a create, rename or delete) is durable once
/// <see cref="SyncDirectory"/> of its directory returns. Anything else may be lost, in part, at a power cut.
/// </remarks>
internal interface IFileSystem
{
    /// <summary>Opens a file: <see cref="FileMode.CreateNew"/>, <see cref="FileMode.Create"/> (truncating) or <see cref="FileMode.Open"/>.</summary>
    IStorageFile Open(string path, FileMode mode, FileAccess access);

    /// <summary>The whole content of a file.</summary>
    byte[] ReadAllBytes(string path);

    /// <summary>True if the file exists.</summary>
    bool FileExists(string path);

    /// <summary>Full paths of the files directly in <paramref name="directory"/> whose names end in <paramref name="suffix"/> ("" for all).</summary>
    IEnumerable<string> EnumerateFiles(string directory, string suffix);

    /// <summary>True if the directory exists.</summary>
    bool DirectoryExists(string path);

    /// <summary>Creates a directory (and its parents) if missing; returns true if it did not exist.</summary>
    bool CreateDirectory(string path);

    /// <summary>Deletes a file if it exists.</summary>
    void Delete(string path);

    /// <summary>Renames a file, replacing any file at <paramref name="to"/>.</summary>
    void Move(string from, string to);

    /// <summary>fsyncs a directory, making the creations, renames and deletions of its entries durable.</summary>
    void SyncDirectory(string path);

    /// <summary>Takes the data directory's lock (see <see cref="DataDirLock"/>) for the life of the result.</summary>
    IDisposable Lock(string dataDirectory);
}

/// <summary>An open file, read and written at explicit offsets.</summary>
internal interface IStorageFile : IDisposable
{
    /// <summary>The file's size.</summary>
    long Length { get; }

    /// <summary>The operating system's handle, for advisory calls (write-behind); null on a simulated disk.</summary>
    SafeFileHandle? Handle { get; }

    /// <summary>Reads up to <paramref name="buffer"/>'s length at <paramref name="offset"/>; returns the bytes read (0 at the end).</summary>
    int Read(long offset, Span<byte> buffer);

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/> (pwrite).</summary>
    void Write(long offset, ReadOnlySpan<byte> data);

    /// <summary>Cuts or extends the file (ftruncate).</summary>
    void SetLength(long length);

    /// <summary>fsync: makes the file's data and size durable.</summary>
    void Sync();

    /// <summary>Reserves blocks up to <paramref name="length"/> (see <see cref="FilePreallocation"/>); false if it cannot.</summary>
    bool TryPreallocate(long length);
}
