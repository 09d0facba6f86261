namespace Kvorum.Etcd.Backup;

/// <summary>How <see cref="BackupDownload"/> waits for a member's backup and reports on it.</summary>
internal sealed record BackupDownloadSettings
{
    /// <summary>When the whole save must be done (UTC); null for no deadline.</summary>
    public DateTime? Deadline { get; init; }

    /// <summary>
    /// How long the member may send nothing before the save fails; a stream that keeps coming (the server sends an empty
    /// message each second while it writes out its state) may take as long as it needs. Infinite by default.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = Timeout.InfiniteTimeSpan;

    /// <summary>Called with the progress so far, at most once per <see cref="ProgressInterval"/>; null for none.</summary>
    public Action<BackupProgress>? Progress { get; init; }

    /// <summary>The least time between two progress reports.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(3);
}

/// <summary>How far a backup download has come.</summary>
/// <param name="Received">Bytes received so far (0 while the member writes out its state).</param>
/// <param name="Remaining">Bytes the member says are still to come.</param>
/// <param name="Elapsed">Time since the call started.</param>
internal sealed record BackupProgress(long Received, ulong Remaining, TimeSpan Elapsed);
