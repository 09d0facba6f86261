using Microsoft.Win32.SafeHandles;

namespace Kvorum.Storage;

/// <summary>The real file system behind <see cref="IFileSystem"/>: .NET's file APIs plus the few system calls it lacks.</summary>
internal sealed class OsFileSystem : IFileSystem
{
    /// <summary>The one instance.</summary>
    public static readonly OsFileSystem Instance = new();

    private OsFileSystem()
    {
    }

    /// <inheritdoc />
    public IStorageFile Open(string path, FileMode mode, FileAccess access)
    {
        // Writers let readers in (recovery of another tool); readers share everything.
        var share = access == FileAccess.Read ? FileShare.ReadWrite : FileShare.Read;
        return new OsFile(File.OpenHandle(path, mode, access, share));
    }

    /// <inheritdoc />
    public byte[] ReadAllBytes(string path) => File.ReadAllBytes(path);

    /// <inheritdoc />
    public bool FileExists(string path) => File.Exists(path);

    /// <inheritdoc />
    public IEnumerable<string> EnumerateFiles(string directory, string suffix) => Directory.EnumerateFiles(directory, "*" + suffix);

    /// <inheritdoc />
    public bool DirectoryExists(string path) => Directory.Exists(path);

    /// <inheritdoc />
    public bool CreateDirectory(string path)
    {
        if (Directory.Exists(path))
            return false;
        Directory.CreateDirectory(path);
        return true;
    }

    /// <inheritdoc />
    public void Delete(string path) => File.Delete(path);

    /// <inheritdoc />
    public void Move(string from, string to) => File.Move(from, to, overwrite: true);

    /// <inheritdoc />
    public void SyncDirectory(string path) => DirectorySync.Flush(path);

    /// <inheritdoc />
    public IDisposable Lock(string dataDirectory) => DataDirLock.Acquire(dataDirectory);

    private sealed class OsFile(SafeFileHandle handle) : IStorageFile
    {
        public long Length => RandomAccess.GetLength(handle);

        public SafeFileHandle? Handle => handle;

        public int Read(long offset, Span<byte> buffer) => RandomAccess.Read(handle, buffer, offset);

        public void Write(long offset, ReadOnlySpan<byte> data) => RandomAccess.Write(handle, data, offset);

        public void SetLength(long length) => RandomAccess.SetLength(handle, length);

        public void Sync() => RandomAccess.FlushToDisk(handle);

        public bool TryPreallocate(long length) => FilePreallocation.TryExtend(handle, length);

        public void Dispose() => handle.Dispose();
    }
}
