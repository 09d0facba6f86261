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
            throw new RpcException(new Status(e.StatusCode, e.Message));
        }
    }
}
