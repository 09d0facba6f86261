using Grpc.Core;
using Kvorum.Etcd.Api;
using Kvorum.Server.Node;
using Microsoft.Extensions.Hosting;

namespace Kvorum.Server.Api;

/// <summary>
/// etcd's Watch service: each call is a stream of many watches (<see cref="WatchStreamSession"/>), served from this
/// member's own applied state, whether it leads or not.
/// </summary>
internal sealed class WatchService(KvorumNode node, ServerOptions options, IHostApplicationLifetime lifetime) : Kvorum.Etcd.Api.Watch.WatchBase
{
    public override Task Watch(IAsyncStreamReader<WatchRequest> requestStream, IServerStreamWriter<WatchResponse> responseStream, ServerCallContext context) =>
        new WatchStreamSession(node, options, context).RunAsync(requestStream, responseStream, lifetime.ApplicationStopping, RequireLeaderInterceptor.LeaderLost(context));
}
