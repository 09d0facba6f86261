using Grpc.Core;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;

namespace Kvorum.Server.Api;

/// <summary>Watch is planned for a later release; until then it says so clearly.</summary>
internal sealed class WatchService : Watch.WatchBase
{
    public override Task Watch(IAsyncStreamReader<WatchRequest> requestStream, IServerStreamWriter<WatchResponse> responseStream, ServerCallContext context) =>
        throw EtcdCall.ToRpcException(EtcdErrors.WatchNotImplemented);
}
