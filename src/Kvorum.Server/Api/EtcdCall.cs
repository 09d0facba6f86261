using Grpc.Core;
using Kvorum.Server.Mvcc;

namespace Kvorum.Server.Api;

/// <summary>Runs a handler and turns Kvorum's errors into etcd's gRPC statuses.</summary>
internal static class EtcdCall
{
    public static async Task<T> Run<T>(Func<Task<T>> handler)
    {
        try
        {
            return await handler().ConfigureAwait(false);
        }
        catch (EtcdException e)
        {
            throw ToRpcException(e);
        }
    }

    /// <summary>The gRPC status etcd answers for <paramref name="error"/>.</summary>
    public static RpcException ToRpcException(EtcdException error) => new(new Status(error.StatusCode, error.Message));
}
