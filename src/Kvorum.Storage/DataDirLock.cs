namespace Kvorum.Storage;

/// <summary>
/// Exclusive ownership of a data directory for the life of this object: a <c>LOCK</c> file opened with
/// <see cref="FileShare.None"/>, which .NET implements on Unix with an advisory <c>flock(LOCK_EX)</c>. The
/// lock dies with the process, so a crashed owner never leaves a stale lock behind.
/// </summary>
internal sealed class DataDirLock : IDisposable
{
    /// <summary>Name of the lock file inside the data directory.</summary>
    public const string FileName = "LOCK";

    private readonly FileStream _file;

    private DataDirLock(FileStream file) => _file = file;

    /// <summary>Takes the lock on <paramref name="dataDir"/>, creating the directory if needed.</summary>
    /// <exception cref="IOException">Another process (or another storage in this one) holds the lock, the
    /// path is not a directory, or the directory is not writable.</exception>
    public static DataDirLock Acquire(string dataDir)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDir);
        var full = Path.GetFullPath(dataDir);
        if (File.Exists(full))
            throw new IOException($"data directory {full} is a file, not a directory");
        try
        {
            Directory.CreateDirectory(full);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"cannot create data directory {full}: permission denied", e);
        }
        var path = Path.Combine(full, FileName);
        try
        {
            var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            return new DataDirLock(file);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"data directory {full} is not writable: cannot open {path}", e);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            if (IsDiskFull(e))
                throw new IOException($"cannot create {path}: disk full", e);
            if (IsReadOnly(e))
                throw new IOException($"data directory {full} is not writable: it is on a read-only filesystem", e);
            if (IsLockHeld(e))
                throw new IOException($"data directory {full} is in use: {path} is locked by another process (or another open storage in this one)", e);
            throw new IOException($"cannot open {path}: {e.Message}", e);
        }
    }

    private static bool IsDiskFull(IOException e) =>
        e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);

    // EROFS is 30 on Linux; .NET puts the errno in HResult for I/O errors it maps itself.
    private static bool IsReadOnly(IOException e) =>
        (e.HResult & 0xFFFF) == 30 || e.Message.Contains("Read-only file system", StringComparison.OrdinalIgnoreCase);

    // FileShare.None is an exclusive flock: a holder makes it fail with EWOULDBLOCK (11), reported as a
    // sharing violation.
    private static bool IsLockHeld(IOException e) =>
        (e.HResult & 0xFFFF) is 11 or 32 || e.Message.Contains("being used by another process", StringComparison.OrdinalIgnoreCase);

    /// <summary>Releases the lock.</summary>
    public void Dispose() => _file.Dispose();
}
