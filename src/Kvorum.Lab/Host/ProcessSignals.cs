using System.Runtime.InteropServices;

namespace Kvorum.Lab.Host;

/// <summary>kill(2): the signals .NET's <c>Process</c> cannot send (it only has SIGKILL).</summary>
internal static partial class ProcessSignals
{
    /// <summary>SIGKILL: end at once, no cleanup.</summary>
    public const int Kill = 9;

    /// <summary>SIGTERM: ask for a clean shutdown.</summary>
    public const int Terminate = 15;

    /// <summary>SIGCONT: resume a stopped process.</summary>
    public const int Continue = 18;

    /// <summary>SIGSTOP: freeze a process; it cannot be caught.</summary>
    public const int Stop = 19;

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>.</summary>
    /// <param name="pid">The process.</param>
    /// <param name="signal">The signal number.</param>
    /// <returns>True when the signal was sent; false when the process does not exist.</returns>
    public static bool Send(int pid, int signal) => SysKill(pid, signal) == 0;

    /// <summary>True when <paramref name="pid"/> is a live process (not a zombie).</summary>
    /// <param name="pid">The process.</param>
    /// <returns>Whether it runs or is stopped.</returns>
    public static bool IsAlive(int pid) => StateOf(pid) is { } state && state != 'Z' && state != 'X';

    /// <summary>
    /// True when <paramref name="pid"/> has fully exited: gone, or a zombie whose threads are all gone. (While
    /// a multi-threaded process dies its main thread can be a zombie already while other threads still hold
    /// its sockets open.)
    /// </summary>
    /// <param name="pid">The process.</param>
    /// <returns>Whether every thread has exited.</returns>
    public static bool HasExited(int pid)
    {
        var state = StateOf(pid);
        if (state is null)
            return true;
        if (state is not ('Z' or 'X'))
            return false;
        try
        {
            return Directory.GetDirectories($"/proc/{pid}/task").Length <= 1;
        }
        catch (IOException)
        {
            return true;
        }
    }

    /// <summary>True when <paramref name="pid"/> is stopped by SIGSTOP.</summary>
    /// <param name="pid">The process.</param>
    /// <returns>Whether it is paused.</returns>
    public static bool IsPaused(int pid) => StateOf(pid) is 'T' or 't';

    /// <summary>The one-letter state of <c>/proc/PID/stat</c>; null when there is no such process.</summary>
    /// <param name="pid">The process.</param>
    /// <returns>R, S, D, T, Z, ... or null.</returns>
    public static char? StateOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            return close >= 0 && close + 2 < stat.Length ? stat[close + 2] : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int signal);
}
