using Kvorum.Server;

namespace Kvorum.Cli;

/// <summary>
/// What a command may touch outside its arguments: the standard streams, the environment and the server entry
/// point. Tests pass their own; the real process uses <see cref="FromProcess"/>.
/// </summary>
internal sealed class CliContext
{
    /// <summary>Standard output.</summary>
    public required TextWriter Out { get; init; }

    /// <summary>Standard error: diagnostics, progress lines and errors.</summary>
    public required TextWriter Error { get; init; }

    /// <summary>Standard input (read by <c>kvorum txn</c>).</summary>
    public required TextReader In { get; init; }

    /// <summary>Reads an environment variable; null when it is not set.</summary>
    public required Func<string, string?> GetEnvironmentVariable { get; init; }

    /// <summary>Runs a member until cancelled and returns its exit code (<see cref="KvorumServer.RunAsync"/>).</summary>
    public required Func<ServerOptions, CancellationToken, Task<int>> RunServer { get; init; }

    /// <summary>Cancelled by Ctrl-C or SIGTERM; <see cref="CancellationToken.None"/> when signals are not wired (tests).</summary>
    public Func<CancellationToken>? ShutdownToken { get; init; }

    /// <summary>True when standard output is a terminal, so a status line may be redrawn in place.</summary>
    public bool OutIsTerminal { get; init; }

    /// <summary>The context of the running process: console streams, real environment, the real server.</summary>
    public static CliContext FromProcess() => new()
    {
        Out = Console.Out,
        Error = Console.Error,
        In = Console.In,
        GetEnvironmentVariable = Environment.GetEnvironmentVariable,
        RunServer = KvorumServer.RunAsync,
        ShutdownToken = ShutdownSignal.Listen,
        OutIsTerminal = !Console.IsOutputRedirected,
    };
}
