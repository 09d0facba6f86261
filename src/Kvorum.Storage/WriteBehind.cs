using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Kvorum.Storage;

/// <summary>
/// Keeps a large file that is being written from piling up dirty pages: every <see cref="Chunk"/> bytes it waits
/// for the kernel to finish writing back what it started a chunk earlier, and starts the writeback of the new
/// chunk (Linux <c>sync_file_range</c>; RocksDB's <c>bytes_per_sync</c>). Advisory: durability still comes from
/// the writer's fsync, which then has at most a chunk or two left to flush.
/// </summary>
/// <remarks>
/// Why: a snapshot is tens of megabytes written at once. Left to the page cache, its pages reach the disk in
/// one burst at its fsync (or when the kernel's dirty limit is hit), and on ext4 the WAL's fdatasyncs of the
/// same moments wait behind that burst in the journal; a leader's slow fsync holds up every commit. Written back
/// a chunk at a time, the burst never forms (measured in docs/storage.md). Elsewhere than on Linux it does nothing.
/// </remarks>
internal sealed partial class WriteBehind
{
    private const uint WaitBefore = 1, Write = 2, WaitAfter = 4;

    private readonly SafeFileHandle _handle;
    private readonly Func<SafeFileHandle, long, long, uint, int> _syncFileRange;

    // Bytes from the file's start whose writeback has been started.
    private long _started;
    private bool _off;

    /// <summary>Watches <paramref name="handle"/>; <paramref name="syncFileRange"/> replaces the system call in tests.</summary>
    public WriteBehind(SafeFileHandle handle, long chunk = 1 << 20, Func<SafeFileHandle, long, long, uint, int>? syncFileRange = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunk);
        _handle = handle;
        Chunk = chunk;
        _syncFileRange = syncFileRange ?? SyncFileRange;
        _off = syncFileRange is null && !OperatingSystem.IsLinux();
    }

    /// <summary>Bytes written between two calls into the kernel.</summary>
    public long Chunk { get; }

    /// <summary>False where the system call is missing or failed: the writer's fsync then does it all.</summary>
    public bool Active => !_off;

    /// <summary>
    /// True once a file of <paramref name="length"/> bytes holds a whole chunk more than was last reported, so the
    /// writer should hand its buffered bytes to the kernel and call <see cref="Written"/>; never while inactive.
    /// </summary>
    public bool IsDue(long length) => !_off && length - _started >= Chunk;

    /// <summary>
    /// Reports that the file's first <paramref name="length"/> bytes are written (handed to the kernel, not
    /// buffered in the process). Does nothing unless <see cref="IsDue"/>.
    /// </summary>
    public void Written(long length)
    {
        if (!IsDue(length))
            return;
        // Wait for the chunk started last time (and anything before it), then start the new one.
        if (_started > 0 && _syncFileRange(_handle, 0, _started, WaitBefore | Write | WaitAfter) != 0)
        {
            _off = true; // not supported here (or failing): the fsync does it all, as without this
            return;
        }
        if (_syncFileRange(_handle, _started, length - _started, Write) != 0)
        {
            _off = true;
            return;
        }
        _started = length;
    }

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int SyncFileRange(SafeFileHandle fd, long offset, long nbytes, uint flags);
}
