using System.Runtime.InteropServices;

namespace Kvorum.Cli.Cluster;

/// <summary>kill(2), to ask a child process to stop with SIGTERM (.NET's Process.Kill sends SIGKILL).</summary>
internal static partial class NativeMethods
{
    /// <summary>SIGTERM's number on Linux and macOS.</summary>
    public const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    internal static partial int Kill(int pid, int signal);
}
