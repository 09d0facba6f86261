using System.Net;
using System.Net.Sockets;
using Kvorum.Server.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kvorum.Server.Tests.Transport;

/// <summary>A real Kestrel server on a loopback port serving <see cref="RaftPeerService"/>, as a member would.</summary>
internal sealed class PeerHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private PeerHost(WebApplication app, RecordingSink sink, Uri url)
    {
        _app = app;
        Sink = sink;
        Url = url;
    }

    public RecordingSink Sink { get; }

    public Uri Url { get; }

    public RaftPeerService Service => _app.Services.GetRequiredService<RaftPeerService>();

    /// <summary>Starts a server for <paramref name="clusterId"/> on 127.0.0.1:<paramref name="port"/> (0: any free port).</summary>
    /// <param name="logs">Receives the host's log lines, filtered as <c>kvorum serve</c> filters them; none when null.</param>
    public static async Task<PeerHost> StartAsync(ulong clusterId, int port = 0, ILoggerProvider? logs = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
            builder.Logging.AddFilter("Grpc", LogLevel.Warning);
        }
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http2));
        var sink = new RecordingSink();
        builder.Services.AddRaftPeer(clusterId, sink);
        var app = builder.Build();
        app.MapRaftPeer();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features
            .GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new PeerHost(app, sink, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
