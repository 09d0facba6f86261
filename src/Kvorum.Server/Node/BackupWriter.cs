using Kvorum.Etcd.Errors;
using Kvorum.Server.Backup;

namespace Kvorum.Server.Node;

/// <summary>
/// Backups of a member's state machine for Maintenance.Snapshot (<see cref="BackupFile"/>), written one at a time to a
/// temporary file in the data directory, whose file system holds the state already (/tmp is often in memory). The file
/// is deleted when its stream is closed, or, after a crash, when the member next loads (<see cref="DeleteLeftovers"/>);
/// nor does it count as the member's storage (<see cref="StorageBytesOnDisk"/>).
/// </summary>
/// <remarks>Any thread: the member loop only captures the state (the caller's <c>capture</c>); the rest runs on the thread pool.</remarks>
internal sealed class BackupWriter(string dataDir)
{
    /// <summary>How the temporary files of backups being sent are named in the data directory.</summary>
    public const string FilePrefix = "backup-";

    /// <summary>Free space a backup leaves besides its own size: a WAL segment's worth and more.</summary>
    public const long SpaceMargin = 128L << 20;

    // 1 while a backup is being written or sent.
    private int _inProgress;

    /// <summary>Deletes backups a crash left behind in the data directory.</summary>
    public void DeleteLeftovers()
    {
        if (!Directory.Exists(dataDir))
            return;
        foreach (var file in Directory.EnumerateFiles(dataDir, FilePrefix + "*.tmp"))
        {
            try
            {
                File.Delete(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Only wasted space; tried again at the next load.
            }
        }
    }

    /// <summary>
    /// Bytes of every file in the data directory but the backups being sent, which are not the member's storage: WAL
    /// segments (preallocated) and snapshots. Files removed while they are counted are left out; a directory that
    /// cannot be listed just now counts what was counted.
    /// </summary>
    public long StorageBytesOnDisk()
    {
        long onDisk = 0;
        try
        {
            foreach (var file in new DirectoryInfo(dataDir).EnumerateFiles("*", SearchOption.AllDirectories))
            {
                try
                {
                    if (!file.Name.StartsWith(FilePrefix, StringComparison.Ordinal))
                        onDisk += file.Length;
                }
                catch (FileNotFoundException)
                {
                    // Removed since it was listed (a compacted segment, an old snapshot).
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The directory cannot be listed just now; report what was counted.
        }
        return onDisk;
    }

    /// <summary>
    /// Writes a backup of the state <paramref name="capture"/> takes (as for a Raft snapshot) to a temporary file and
    /// returns it open at its start. The disk must have room for about <paramref name="storeBytes"/> and a WAL segment
    /// beside it (<see cref="SpaceMargin"/>): a full disk would stop the WAL, and with it the member.
    /// </summary>
    /// <param name="storeBytes">The state's size, as the quota counts it.</param>
    /// <param name="capture">Takes the state on the member loop; the action it gives writes it to a stream on any thread.</param>
    /// <param name="cancellation">Stops the writing.</param>
    /// <returns>The backup, open for reading, positioned at 0.</returns>
    /// <exception cref="EtcdException">Another backup is being sent (Unavailable), or the disk has no room for one (ResourceExhausted).</exception>
    public async Task<FileStream> WriteAsync(long storeBytes, Func<Task<Action<Stream>>> capture, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(capture);
        // One at a time: each is a whole copy of the state on the disk that holds the WAL.
        if (Interlocked.Exchange(ref _inProgress, 1) == 1)
            throw new EtcdException(EtcdErrors.BackupInProgress);
        FileStream? file = null;
        try
        {
            var needed = storeBytes + SpaceMargin;
            var free = new DriveInfo(Path.GetFullPath(dataDir)).AvailableFreeSpace;
            if (free < needed)
                throw new EtcdException(EtcdErrors.NoRoomForBackup(needed, free));
            var write = await capture().WaitAsync(cancellation).ConfigureAwait(false);
            var path = Path.Combine(dataDir, $"{FilePrefix}{Guid.NewGuid():N}.tmp");
            file = new ReleasingFileStream(path, () => Volatile.Write(ref _inProgress, 0));
            var stream = file;
            await Task.Run(() => BackupFile.Write(stream, write, cancellation), cancellation).ConfigureAwait(false);
            file.Position = 0;
            return file;
        }
        catch
        {
            if (file is not null)
                await file.DisposeAsync().ConfigureAwait(false); // deletes it, and lets the next backup in
            else
                Volatile.Write(ref _inProgress, 0);
            throw;
        }
    }

    /// <summary>A backup's temporary file: readable by this user only, deleted on close, which lets the next backup in.</summary>
    private sealed class ReleasingFileStream(string path, Action released) : FileStream(path, Options())
    {
        private int _released;

        private static FileStreamOptions Options()
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.ReadWrite,
                Share = FileShare.None,
                BufferSize = 1 << 16,
                Options = FileOptions.DeleteOnClose,
            };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            return options;
        }

        protected override void Dispose(bool disposing)
        {
            base.Dispose(disposing);
            if (Interlocked.Exchange(ref _released, 1) == 0)
                released();
        }
    }
}
