namespace Kvorum.Server;

/// <summary>Entry point of <c>kvorum serve</c>: runs one member until cancelled.</summary>
public static class KvorumServer
{
    /// <summary>
    /// Runs a member with <paramref name="options"/> until <paramref name="cancellation"/> fires. Returns the
    /// process exit code: 0 after a clean stop, non-zero (with one line on stderr) when it cannot start.
    /// </summary>
    public static Task<int> RunAsync(ServerOptions options, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(options);
        // Filled in by the node runtime (Node/): storage, Raft loop, transport, etcd API.
        return Task.FromResult(NotYet(cancellation));
    }

    private static int NotYet(CancellationToken _)
    {
        Console.Error.WriteLine("kvorum serve: the server runtime is not built yet");
        return 2;
    }
}
