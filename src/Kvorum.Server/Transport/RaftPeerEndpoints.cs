using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kvorum.Server.Transport;

/// <summary>Registers and maps <see cref="RaftPeerService"/> in an ASP.NET Core host.</summary>
internal static class RaftPeerEndpoints
{
    /// <summary>
    /// Adds gRPC and a singleton <see cref="RaftPeerService"/> for cluster <paramref name="clusterId"/>
    /// delivering into <paramref name="sink"/>, with receive and send limits of
    /// <see cref="TransportOptions.MaxMessageSize"/> (for this service only). Open streams end when the host
    /// begins to stop, so they do not hold up its graceful shutdown.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public static IServiceCollection AddRaftPeer(
        this IServiceCollection services, ulong clusterId, IRaftMessageSink sink, TransportOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(sink);
        options ??= new TransportOptions();
        options.Validate();
        services.AddGrpc().AddServiceOptions<RaftPeerService>(grpc =>
        {
            grpc.MaxReceiveMessageSize = options.MaxMessageSize;
            grpc.MaxSendMessageSize = options.MaxMessageSize;
        });
        services.AddSingleton(provider => new RaftPeerService(
            clusterId, sink, provider.GetRequiredService<ILoggerFactory>().CreateLogger<RaftPeerService>(),
            provider.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping));
        return services;
    }

    /// <summary>Maps the <c>kvorum.raft.RaftPeer</c> service; call <see cref="AddRaftPeer"/> first.</summary>
    public static GrpcServiceEndpointConventionBuilder MapRaftPeer(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGrpcService<RaftPeerService>();
}
