using System.Net;
using System.Net.Sockets;
using Kvorum.Server.Api;
using Kvorum.Server.Http2;
using Kvorum.Server.Node;
using Kvorum.Server.Security;
using Kvorum.Server.Transport;
using Kvorum.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kvorum.Server;

/// <summary>Entry point of <c>kvorum serve</c>: runs one member until cancelled.</summary>
internal static class KvorumServer
{
    /// <summary>
    /// Runs a member with <paramref name="options"/> until <paramref name="cancellation"/> fires. Returns the
    /// process exit code: 0 after a clean stop, 1 (with one line on stderr) when it cannot start.
    /// </summary>
    public static async Task<int> RunAsync(ServerOptions options, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var url in options.ListenClientUrls.Concat(options.ListenPeerUrls).Concat(options.ListenMetricsUrls))
        {
            if (!TryEndpoint(url, out _))
            {
                await Console.Error.WriteLineAsync($"kvorum serve: listen URL {url} must name an IP address (for example http://127.0.0.1:2379 or http://0.0.0.0:2379)").ConfigureAwait(false);
                return 2;
            }
        }
        // TLS files are read and checked before anything else, so that a wrong one is the only thing said.
        if (ServerTls.Create(options) is not { } tls)
            return 1;

        // The ports first: a member that cannot listen stops before it touches its data directory.
        var endpoints = options.ListenClientUrls.Concat(options.ListenPeerUrls).Concat(options.ListenMetricsUrls).Select(u => (u, Endpoint(u)));
        using var reservation = ListenReservation.TryBind(endpoints, out var bindError);
        if (reservation is null)
        {
            await Console.Error.WriteLineAsync($"kvorum serve: cannot listen: {bindError}").ConfigureAwait(false);
            return 1;
        }

        var clusterId = MemberIdentity.ClusterId([], options.InitialClusterToken);
        try
        {
            if (MemberBootstrap.IsNew(options.DataDir))
                MemberBootstrap.Create(options, MemberIdentity.MemberId(options.InitialAdvertisePeerUrls, options.InitialClusterToken), clusterId);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"kvorum serve: cannot create data directory {options.DataDir}: {e.Message}").ConfigureAwait(false);
            return 1;
        }

        DiskRaftStorage storage;
        ulong memberId;
        try
        {
            storage = DiskRaftStorage.Open(new StorageOptions
            {
                DataDirectory = options.DataDir,
                // Before the loggers exist: a torn WAL tail dropped at recovery is said once, on standard error.
                Warning = static message => Console.Error.WriteLine($"kvorum serve: warning: {message}"),
            });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or WalCorruptException)
        {
            await Console.Error.WriteLineAsync($"kvorum serve: cannot open data directory {options.DataDir}: {e.Message}").ConfigureAwait(false);
            return 1;
        }
        try
        {
            if (MemberIdentityCheck.Resolve(options, storage, out var refusal) is not { } id)
            {
                await Console.Error.WriteLineAsync($"kvorum serve: {refusal}").ConfigureAwait(false);
                storage.Dispose();
                return 1;
            }
            memberId = id;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"kvorum serve: cannot load data directory {options.DataDir}: {e.Message}").ConfigureAwait(false);
            storage.Dispose();
            return 1;
        }

        // No content of ours lives in a content root, and the default one is the working directory, often the
        // parent of the data directory: with appsettings reloading on, a file watcher would wake on every WAL write.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Grpc", LogLevel.Warning);
        // The host logs a failed start with the whole exception; we report it in one line below.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
        // While this logger is enabled at any level, ASP.NET Core starts an Activity and a logging scope for every
        // request (a share of a leader's allocations: docs/benchmarks.md) to log "Request starting" at Information.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        // Memory a burst of clients needed goes back to the system once the burst is over (IdleMemoryReturn); a closed
        // connection is when what it held may have become garbage.
        var unreadAnswers = new UnreadAnswerBudget(options.MaxUnreadResponseBytes);
        using var memoryReturn = new IdleMemoryReturn(answersReleasedBytes: () => unreadAnswers.Released);
        // Connection buffers beyond a steady share are freed after use, not kept for good (RetentionBoundedMemoryPool).
        builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IMemoryPoolFactory<byte>, RetentionBoundedMemoryPoolFactory>();
        // Kestrel listens on the sockets bound above.
        builder.WebHost.UseSockets(o => o.CreateBoundListenSocket = reservation.Take);
        builder.WebHost.ConfigureKestrel(k =>
        {
            foreach (var url in options.ListenClientUrls.Concat(options.ListenPeerUrls).Distinct())
            {
                k.Listen(Endpoint(url), o =>
                {
                    o.Protocols = HttpProtocols.Http2;
                    // Before the middleware below: Kestrel runs the first added nearest the wire, and the repair reads plaintext.
                    tls.UseOn(o, url, options);
                    o.Use(next => async connection =>
                    {
                        try
                        {
                            await next(connection).ConfigureAwait(false);
                        }
                        finally
                        {
                            memoryReturn.ConnectionClosed();
                        }
                    });
                    // etcdctl names some endpoints by URL in :authority, which Kestrel refuses (SchemeAuthority).
                    if (options.ListenClientUrls.Contains(url))
                        o.Use(next => connection =>
                        {
                            connection.Transport = new RepairedInput(new AuthorityRepairingReader(connection.Transport.Input), connection.Transport.Output);
                            return next(connection);
                        });
                });
            }
            foreach (var url in options.ListenMetricsUrls)
                k.Listen(Endpoint(url), o =>
                {
                    o.Protocols = HttpProtocols.Http1;
                    tls.UseOn(o, url, options);
                });
            k.Limits.MaxRequestBodySize = null;
        });
        builder.Services.AddGrpc(o =>
        {
            // etcd's limit on a client's message: the request limit plus 512 KiB. A larger message is refused by gRPC
            // (ResourceExhausted) before it is read into memory; one between the two limits gets "request is too
            // large". The peer service has its own limit (AddRaftPeer).
            o.MaxReceiveMessageSize = options.MaxRequestBytes + 512 * 1024;
            o.MaxSendMessageSize = null;
            o.Interceptors.Add<LearnerInterceptor>();
            o.Interceptors.Add<RequireLeaderInterceptor>();
            // Resolves each call's auth token and refuses what only root may do (Auth/AuthInterceptor.cs).
            o.Interceptors.Add<Auth.AuthInterceptor>();
        });

        var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        }));
        var node = new KvorumNode(options, storage, memberId, clusterId, loggerFactory.CreateLogger("kvorum"));
        var transportOptions = new TransportOptions { Security = tls.Peer };
        var transport = new GrpcPeerTransport(memberId, clusterId, node, loggerFactory.CreateLogger("kvorum.transport"), transportOptions);
        builder.Services.AddSingleton<IHostLifetime, SignalFreeLifetime>();
        builder.Services.AddSingleton(node);
        builder.Services.AddSingleton(options);
        // Large read answers waiting for their clients, bounded across the member (Http2/UnreadAnswerBudget.cs).
        builder.Services.AddSingleton(unreadAnswers);
        builder.Services.AddRaftPeer(clusterId, node, transportOptions);
        builder.Services.AddSingleton(new LeasePeerService(clusterId, node));
        builder.Services.AddSingleton(new MembershipPeerService(clusterId, node));
        // Made here, not by the container, so that it is disposed with the member (the app itself is not disposed).
        using var loopback = new LoopbackClient(options, tls.Client);
        builder.Services.AddSingleton(loopback);

        try
        {
            node.Load(transport);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or WalCorruptException)
        {
            await Console.Error.WriteLineAsync($"kvorum serve: cannot load data directory {options.DataDir}: {e.Message}").ConfigureAwait(false);
            await transport.DisposeAsync().ConfigureAwait(false);
            storage.Dispose();
            return 1;
        }

        var app = builder.Build();
        app.UsePeerPortGate(options.ListenPeerUrls);
        // Large read answers give their room in the unread-answer budget back once sent (Http2/UnreadAnswerHold.cs).
        app.UseUnreadAnswerRelease();
        app.MapGrpcService<KvService>();
        app.MapGrpcService<MaintenanceService>();
        app.MapGrpcService<ClusterService>();
        app.MapGrpcService<WatchService>();
        app.MapGrpcService<LeaseService>();
        app.MapGrpcService<LockService>();
        app.MapGrpcService<ElectionService>();
        // Kvorum's own: the member's event stream, for kvorum view.
        app.MapGrpcService<Observe.ObserveService>();
        app.MapGrpcService<AuthService>();
        app.MapRaftPeer();
        app.MapGrpcService<LeasePeerService>();
        app.MapGrpcService<MembershipPeerService>();
        // As etcd's /health: unhealthy without a leader, or while an alarm is raised.
        app.MapGet("/health", () => node.Status.Leader == 0
            ? Results.Text("{\"health\":\"false\",\"reason\":\"no leader\"}\n", "application/json", statusCode: 503)
            : node.NoSpaceAlarm
                ? Results.Text("{\"health\":\"false\",\"reason\":\"ALARM NOSPACE\"}\n", "application/json", statusCode: 503)
                : Results.Text("{\"health\":\"true\"}\n", "application/json"));
        app.MapGet("/metrics", () => Results.Text(Metrics.Render(node), "text/plain; version=0.0.4"));

        try
        {
            await app.StartAsync(cancellation).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            await Console.Error.WriteLineAsync($"kvorum serve: cannot listen: {e.Message}").ConfigureAwait(false);
            await transport.DisposeAsync().ConfigureAwait(false);
            storage.Dispose();
            return 1;
        }

        node.Start(transport);
        var urls = string.Join(",", options.ListenClientUrls);
        var hostLog = loggerFactory.CreateLogger("kvorum");
        Log.Started(hostLog, options.Name, memberId, urls);
        try
        {
            await Task.WhenAny(Task.Delay(Timeout.Infinite, cancellation), node.Stopped).ConfigureAwait(false);
        }
        finally
        {
            if (cancellation.IsCancellationRequested && !node.Stopped.IsCompleted)
            {
                // Still serving peers: let a follower take over before this member goes.
                var transferWait = TimeSpan.FromMilliseconds(Math.Max(1000, 2 * options.ElectionTimeoutMs));
                if (await node.TransferLeadershipForShutdownAsync(transferWait).ConfigureAwait(false) is { } successor)
                    Log.TransferredOnShutdown(hostLog, successor);
            }
            await node.EndClientStreamsAsync(TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(250)).ConfigureAwait(false);
            await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            await transport.DisposeAsync().ConfigureAwait(false);
            await node.DisposeAsync().ConfigureAwait(false);
            loggerFactory.Dispose();
        }
        if (node.Failed)
        {
            await Console.Error.WriteLineAsync("kvorum serve: the raft loop stopped on an internal error (see the log above)").ConfigureAwait(false);
            return 1;
        }
        return 0;
    }

    private static IPEndPoint Endpoint(Uri url) =>
        TryEndpoint(url, out var endpoint) ? endpoint : throw new ArgumentException($"listen URL {url} must name an IP address");

    private static bool TryEndpoint(Uri url, out IPEndPoint endpoint)
    {
        var host = url.DnsSafeHost;
        var address = host == "localhost" ? IPAddress.Loopback : IPAddress.TryParse(host, out var ip) ? ip : null;
        endpoint = address is null ? null! : new IPEndPoint(address, url.Port);
        return address is not null;
    }
}

/// <summary>Log lines of the server host.</summary>
internal static partial class Log
{
    [LoggerMessage(Level = LogLevel.Information, Message = "kvorum member {Name} ({Id:x16}) serving clients on {Urls}")]
    public static partial void Started(ILogger log, string name, ulong id, string urls);

    [LoggerMessage(Level = LogLevel.Information, Message = "shutting down: transferred leadership to {Successor:x16}")]
    public static partial void TransferredOnShutdown(ILogger log, ulong successor);
}
