using System.Runtime.InteropServices;

namespace Kvorum.Server.Node;

/// <summary>
/// Lowers the scheduling priority of the calling thread, for background work that must not compete with
/// requests: writing a snapshot of the whole state takes hundreds of milliseconds of CPU, and on a small
/// machine a snapshot thread at normal priority takes a core away from the loop and the gRPC threads while it
/// runs, which shows in every request's latency. At nice 10 the thread gets about a tenth of a contended
/// core and the rest of the time when the cores are idle.
/// </summary>
internal static partial class BackgroundPriority
{
    private const int NiceValue = 10;

    /// <summary>
    /// Makes the calling thread nice <see cref="NiceValue"/> (Linux, where niceness is per thread); a no-op
    /// elsewhere. Returns false if it could not.
    /// </summary>
    public static bool LowerCurrentThread()
    {
        if (!OperatingSystem.IsLinux())
            return false;
        // PRIO_PROCESS with who = 0 is the calling thread on Linux.
        return SetPriority(0, 0, NiceValue) == 0;
    }

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);
}
