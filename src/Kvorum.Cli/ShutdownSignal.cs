using System.Runtime.InteropServices;

namespace Kvorum.Cli;

/// <summary>Turns Ctrl-C (SIGINT) and SIGTERM into a cancellation token instead of killing the process.</summary>
internal static class ShutdownSignal
{
    private static readonly CancellationTokenSource Source = new();
    private static readonly Lock Gate = new();
    private static List<PosixSignalRegistration>? _registrations;

    /// <summary>
    /// Starts listening (once per process) and returns a token cancelled at the first SIGINT or SIGTERM.
    /// A second signal is not intercepted again only in the sense that it cancels an already-cancelled token.
    /// </summary>
    /// <returns>The process-wide shutdown token.</returns>
    public static CancellationToken Listen()
    {
        lock (Gate)
        {
            _registrations ??=
            [
                PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
                PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
            ];
        }

        return Source.Token;
    }

    private static void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true;
        Source.Cancel();
    }
}
