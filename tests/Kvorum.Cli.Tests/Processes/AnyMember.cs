using Grpc.Core;
using Grpc.Net.Client;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// A unary call as a client with several endpoints makes it across a failover: asked of each member in turn,
/// retrying the answers that say "try again" (unavailable, timed out) until a deadline.
/// </summary>
internal static class AnyMember
{
    /// <summary>Runs <paramref name="call"/> on the members of <paramref name="channels"/> in turn until one answers.</summary>
    public static async Task<T> CallAsync<T>(IReadOnlyList<GrpcChannel> channels, Func<GrpcChannel, DateTime, Task<T>> call, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await call(channels[attempt % channels.Count], DateTime.UtcNow.AddSeconds(3));
            }
            catch (RpcException e) when (e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }
}
