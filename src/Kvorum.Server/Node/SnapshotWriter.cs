using System.Diagnostics;
using Kvorum.Raft;
using Kvorum.Storage;

namespace Kvorum.Server.Node;

/// <summary>
/// Writes a snapshot's file on a thread of its own at a lower priority (<see cref="BackgroundPriority"/>), so that
/// requests go first: encoding the state and fsyncing the file take long for a large state, and the member loop must
/// not wait for them. The loop has only copied references to the state; it makes the file current itself afterwards
/// (<see cref="SnapshotSchedule.TakeIfDue"/>), since the Raft core reads the log between its calls.
/// </summary>
internal static class SnapshotWriter
{
    /// <summary>
    /// Starts writing the state <paramref name="write"/> writes as the snapshot at <paramref name="index"/>; on the
    /// writing thread, calls <paramref name="written"/> once the file is durable, or <paramref name="failed"/>.
    /// Returns a task that completes, and never faults, once either has been called.
    /// </summary>
    public static Task Start(DiskRaftStorage storage, ulong index, ConfState confState, Action<Stream> write, Action<WrittenSnapshot> written, Action<Exception> failed)
    {
        ArgumentNullException.ThrowIfNull(storage);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = Stopwatch.GetTimestamp();
        var thread = new Thread(() =>
        {
            BackgroundPriority.LowerCurrentThread();
            try
            {
                long bytes = 0;
                var prepared = storage.PrepareSnapshot(index, confState, stream =>
                {
                    write(stream);
                    bytes = stream.Length;
                });
                written(new WrittenSnapshot(prepared, bytes, Stopwatch.GetElapsedTime(started)));
            }
#pragma warning disable CA1031 // A failed snapshot is logged and retried later; the log just stays longer.
            catch (Exception e)
#pragma warning restore CA1031
            {
                failed(e);
            }
            finally
            {
                done.SetResult();
            }
        })
        {
            IsBackground = true,
            Name = "kvorum-snapshot",
        };
        thread.Start();
        return done.Task;
    }
}
