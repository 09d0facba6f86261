using Kvorum.Server.Backup;

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
    public async Task<FileStream> WriteBackupAsync(CancellationToken cancellation)
    {
        var write = await QueryAsync(CaptureStateMachine).WaitAsync(cancellation).ConfigureAwait(false);
        // In the data directory, whose file system holds the state already: /tmp is often in memory (tmpfs).
        var path = Path.Combine(_options.DataDir, $"{BackupFilePrefix}{Guid.NewGuid():N}.tmp");
        var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
        try
        {
            await Task.Run(() => BackupFile.Write(file, write), cancellation).ConfigureAwait(false);
            file.Position = 0;
            return file;
        }
        catch
        {
            await file.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}
