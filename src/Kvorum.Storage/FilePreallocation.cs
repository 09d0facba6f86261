using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Kvorum.Storage;

/// <summary>
/// Reserves a file's blocks ahead of the appends that will fill them, with the file's size set to the
/// reserved length (posix_fallocate). An append inside reserved space changes neither the file's size nor
/// its block map, so its fdatasync has only the data to flush, not a journal commit for the metadata (measured
/// on ext4 in docs/storage.md). etcd preallocates its WAL segments for the same reason. Reserved bytes read as zeros.
/// </summary>
internal static partial class FilePreallocation
{
    /// <summary>
    /// Extends <paramref name="handle"/>'s file to <paramref name="length"/> bytes of reserved zeros. Returns
    /// false, leaving the file as it was, where the platform or file system cannot do it or the space is not
    /// there (the log then grows the file as it appends and reports a full disk on the append that hits it).
    /// </summary>
    public static bool TryExtend(SafeFileHandle handle, long length)
    {
        if (!OperatingSystem.IsLinux())
            return false;
        var before = RandomAccess.GetLength(handle);
        if (before >= length)
            return true;
        if (PosixFallocate(handle, 0, length) == 0)
            return true;
        // ENOSPC, EOPNOTSUPP, EINVAL...: undo whatever part of the reservation was made.
        try
        {
            RandomAccess.SetLength(handle, before);
        }
        catch (IOException)
        {
            // The size change was not made durable; recovery reads a zero tail as the end of the log.
        }
        return false;
    }

    // posix_fallocate returns the error number instead of setting errno.
    [LibraryImport("libc", EntryPoint = "posix_fallocate")]
    private static partial int PosixFallocate(SafeFileHandle fd, long offset, long length);
}
