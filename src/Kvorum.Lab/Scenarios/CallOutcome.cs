using Grpc.Core;

namespace Kvorum.Lab.Scenarios;

/// <summary>How a client call that a scenario expects to be refused ended: null when it succeeded, else its gRPC status.</summary>
internal static class CallOutcome
{
    /// <summary>Runs <paramref name="call"/> and names how it ended.</summary>
    /// <typeparam name="T">What the call returns.</typeparam>
    /// <param name="call">The call.</param>
    /// <returns>Null when it succeeded, else the status code's name (Unavailable, DeadlineExceeded, ...).</returns>
    public static async Task<string?> Of<T>(Func<Task<T>> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        try
        {
            await call().ConfigureAwait(false);
            return null;
        }
        catch (RpcException e)
        {
            return e.StatusCode.ToString();
        }
    }
}
