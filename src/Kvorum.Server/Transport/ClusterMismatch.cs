using Grpc.Core;

namespace Kvorum.Server.Transport;

/// <summary>
/// The one refusal every peer-port service gives a call from another cluster: FailedPrecondition, naming both ids.
/// </summary>
internal static class ClusterMismatch
{
    /// <summary>The refusal's text.</summary>
    public static string Describe(ulong theirs, ulong ours) =>
        $"cluster id mismatch: the sender belongs to cluster {theirs:x}, this member to {ours:x}";

    /// <summary>Refuses the call when <paramref name="theirs"/> is not <paramref name="ours"/>.</summary>
    /// <exception cref="RpcException">FailedPrecondition: the sender belongs to another cluster.</exception>
    public static void ThrowIfOther(ulong theirs, ulong ours)
    {
        if (theirs != ours)
            throw new RpcException(new Status(StatusCode.FailedPrecondition, Describe(theirs, ours)));
    }
}
