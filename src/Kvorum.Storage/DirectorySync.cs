using System.Runtime.InteropServices;

namespace Kvorum.Storage;

/// <summary>
/// Flushes a directory's entries (file creations, renames, deletions) to stable storage. .NET cannot open
/// a directory as a file, so on Unix this calls open(O_RDONLY | O_DIRECTORY) and fsync through libc. On
/// Windows, NTFS metadata is journaled and there is no equivalent call, so this does nothing.
/// </summary>
internal static partial class DirectorySync
{
    private const int ORdOnly = 0;
    private const int ODirectoryLinux = 0x10000;
    private const int ODirectoryMac = 0x100000;

    /// <summary>fsyncs the directory <paramref name="path"/>.</summary>
    /// <exception cref="IOException">The directory cannot be opened or flushed.</exception>
    public static void Flush(string path)
    {
        if (OperatingSystem.IsWindows())
            return;
        var flags = ORdOnly | (OperatingSystem.IsMacOS() ? ODirectoryMac : ODirectoryLinux);
        var fd = Open(path, flags);
        if (fd < 0)
            throw new IOException($"cannot open directory {path} to flush it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (Fsync(fd) != 0)
                throw new IOException($"fsync of directory {path} failed (errno {Marshal.GetLastPInvokeError()})");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
