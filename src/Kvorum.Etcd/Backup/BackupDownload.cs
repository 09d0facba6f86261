using System.Diagnostics;
using Grpc.Core;
using Kvorum.Etcd.Api;
using Kvorum.Storage;

namespace Kvorum.Etcd.Backup;

/// <summary>
/// Saves one member's backup (Maintenance.Snapshot) to a file, for <c>kvorum snapshot save</c> and the lab. The stream
/// is written to <c>FILE.part</c>, flushed to disk, checked against its SHA-256 (<see cref="BackupDigest"/>), renamed
/// to FILE and the rename made durable, so FILE is either a whole, checked backup or absent; on any failure the part
/// file is removed.
/// </summary>
internal static class BackupDownload
{
    /// <summary>The suffix of the file the stream is written to before it is checked and renamed.</summary>
    public const string PartSuffix = ".part";

    /// <summary>Receives the backup from <paramref name="client"/> into <paramref name="path"/>.</summary>
    /// <param name="client">The member to back up.</param>
    /// <param name="path">The file to write; replaced if it exists.</param>
    /// <param name="settings">Deadline, idle timeout and progress.</param>
    /// <param name="cancellation">Cancels the save.</param>
    /// <returns>The file's size in bytes.</returns>
    /// <exception cref="RpcException">The call failed (the deadline passed: DeadlineExceeded).</exception>
    /// <exception cref="TimeoutException">The member sent nothing for <see cref="BackupDownloadSettings.IdleTimeout"/>.</exception>
    /// <exception cref="InvalidDataException">The file received failed its SHA-256 check.</exception>
    /// <exception cref="IOException">The file could not be written.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> was cancelled.</exception>
    public static async Task<long> SaveAsync(Maintenance.MaintenanceClient client, string path, BackupDownloadSettings settings, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(settings);
        var part = path + PartSuffix;
        try
        {
            var size = await ReceiveAsync(client, part, settings, cancellation).ConfigureAwait(false);
            BackupDigest.Verify(part);
            File.Move(part, path, overwrite: true);
            DirectorySync.Flush(Path.GetDirectoryName(Path.GetFullPath(path))!);
            return size;
        }
        catch
        {
            TryDelete(part);
            throw;
        }
    }

    /// <summary>
    /// Receives the stream into <paramref name="part"/> and fsyncs it. A stream that goes silent for the idle timeout
    /// fails; one that keeps coming may take as long as the deadline allows, with a progress report each interval.
    /// </summary>
    private static async Task<long> ReceiveAsync(Maintenance.MaintenanceClient client, string part, BackupDownloadSettings settings, CancellationToken cancellation)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        idle.CancelAfter(settings.IdleTimeout);
        var started = Stopwatch.GetTimestamp();
        var lastProgress = started;
        long written = 0;
        try
        {
            using var call = client.Snapshot(new SnapshotRequest(), new CallOptions(deadline: settings.Deadline, cancellationToken: idle.Token));
            var create = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 1 << 16 };
            if (!OperatingSystem.IsWindows())
                create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // a backup holds every value: etcdctl's is 0600 too
            await using var output = new FileStream(part, create);
            while (await call.ResponseStream.MoveNext(idle.Token).ConfigureAwait(false))
            {
                idle.CancelAfter(settings.IdleTimeout);
                var chunk = call.ResponseStream.Current;
                await output.WriteAsync(chunk.Blob.Memory, cancellation).ConfigureAwait(false);
                written += chunk.Blob.Length;
                if (settings.Progress is { } progress && Stopwatch.GetElapsedTime(lastProgress) > settings.ProgressInterval)
                {
                    lastProgress = Stopwatch.GetTimestamp();
                    progress(new BackupProgress(written, chunk.RemainingBytes, Stopwatch.GetElapsedTime(started)));
                }
            }
            output.Flush(flushToDisk: true);
            return written;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellation.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellation);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && idle.IsCancellationRequested)
        {
            throw new TimeoutException($"the member sent nothing for {settings.IdleTimeout.TotalSeconds:0.#} s", e);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The error that led here is the one to report.
        }
    }
}
