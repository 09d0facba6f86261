using Grpc.Core;
using Kvorum.Server.Backup;
using Kvorum.Server.Mvcc;

namespace Kvorum.Server.Node;

/// <summary>Backups of this member's state machine, for Maintenance.Snapshot.</summary>
public sealed partial class KvorumNode
{
    /// <summary>How the temporary files of backups being sent are named in the data directory.</summary>
    internal const string BackupFilePrefix = "backup-";

    /// <summary>Deletes backups a crash left behind in the data directory.</summary>
    private void DeleteLeftoverBackups()
    {
        if (!Directory.Exists(_options.DataDir))
            return;
        foreach (var file in Directory.EnumerateFiles(_options.DataDir, BackupFilePrefix + "*.tmp"))
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
    /// Writes a backup of this member's state machine as it is now (<see cref="BackupFile"/>) to a temporary file in
    /// the data directory and returns it open at its start; the file is deleted when the stream is closed (or, after
    /// a crash, when the member next loads). Like etcd's Snapshot, it holds what
    /// this member has applied, without asking the leader. The loop only takes the state (as for a Raft snapshot);
    /// encoding and writing run on the thread pool.
    /// </summary>
    /// <param name="cancellation">Stops the writing.</param>
    /// <returns>The backup, open for reading, positioned at 0.</returns>
    /// <exception cref="EtcdException">Another backup is being sent (Unavailable), or the disk has no room for one (ResourceExhausted).</exception>
    public async Task<FileStream> WriteBackupAsync(CancellationToken cancellation)
    {
        // One at a time: each is a whole copy of the state on the disk that holds the WAL.
        if (Interlocked.Exchange(ref _backupInProgress, 1) == 1)
            throw new EtcdException(StatusCode.Unavailable, "kvorum: a snapshot of this member is being sent already; try again when it is done");
        FileStream? file = null;
        try
        {
            // Room for the copy and a WAL segment beside it: a full disk would stop the WAL, and with it the member.
            long needed = Volatile.Read(ref _storeBytes) + BackupSpaceMargin;
            long free = new DriveInfo(Path.GetFullPath(_options.DataDir)).AvailableFreeSpace;
            if (free < needed)
                throw new EtcdException(StatusCode.ResourceExhausted,
                    $"kvorum: not enough free space in the data directory for a snapshot: about {needed >> 20} MiB needed, {free >> 20} MiB free");
            var write = await QueryAsync(CaptureStateMachine).WaitAsync(cancellation).ConfigureAwait(false);
            // In the data directory, whose file system holds the state already: /tmp is often in memory (tmpfs).
            var path = Path.Combine(_options.DataDir, $"{BackupFilePrefix}{Guid.NewGuid():N}.tmp");
            file = new ReleasingFileStream(path, () => Volatile.Write(ref _backupInProgress, 0));
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
                Volatile.Write(ref _backupInProgress, 0);
            throw;
        }
    }

    // 1 while a backup is being written or sent.
    private int _backupInProgress;

    /// <summary>Free space a backup leaves besides its own size: a WAL segment's worth and more.</summary>
    private const long BackupSpaceMargin = 128L << 20;

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
