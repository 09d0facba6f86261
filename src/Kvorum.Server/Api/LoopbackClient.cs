using System.Net;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Recipes;

namespace Kvorum.Server.Api;

/// <summary>
/// A gRPC client of this member's own client listener, for the Lock and Election services. They run etcd's lock
/// and election recipes as a client would (Txn, Range, Watch, LeaseGrant), as etcd's v3lock and v3election servers do
/// over an in-process clientv3: the recipes then have one home shared with the CLI, and the services go through the
/// same checks, Raft proposals and watch sessions as any client, so they cannot diverge from the KV API's behaviour.
/// </summary>
internal sealed class LoopbackClient : IDisposable
{
    /// <summary>etcd's default session TTL (<c>concurrency.NewSession</c>).</summary>
    private const long SessionTtlSeconds = 60;

    private readonly GrpcChannel _channel;

    /// <summary>Creates the client; it connects on first use.</summary>
    /// <param name="options">The member's options: its first client listen URL is called.</param>
    /// <param name="tls">The client port's TLS, used when that URL is https.</param>
    public LoopbackClient(ServerOptions options, Security.TransportSecurity? tls = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _channel = GrpcChannel.ForAddress(Address(options.ListenClientUrls[0]), new GrpcChannelOptions
        {
            // Marked so that the member's own certificate is not taken for a user (Auth/CertificateUser.cs).
            HttpHandler = new Auth.LoopbackMark(new SocketsHttpHandler
            {
                // Each waiting Lock or Campaign holds a Watch stream: past the listener's stream limit, more connections.
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                UseCookies = false,
                SslOptions = tls?.OwnListenerClientOptions() ?? new(),
            }),
            DisposeHttpClient = true,
            MaxReceiveMessageSize = null,
        });
        Recipes = new ChannelRecipeClient(_channel);
    }

    /// <summary>The recipes' calls.</summary>
    public IRecipeClient Recipes { get; }

    /// <summary>
    /// The recipes' calls made for the caller of <paramref name="context"/>: with its token, or as its certificate's
    /// user (<see cref="Auth.LoopbackCaller"/>); <see cref="Recipes"/> when it is no one.
    /// </summary>
    public IRecipeClient RecipesFor(Grpc.Core.ServerCallContext context) =>
        Auth.LoopbackCaller.Of(context) is { } caller ? new ChannelRecipeClient(new Auth.CallerChannel(_channel, caller)) : Recipes;

    /// <summary>
    /// The lease a Lock or Campaign puts its key under: the one asked for, or with 0, as etcd's session does, a fresh
    /// lease of 60 s that nobody keeps alive.
    /// </summary>
    /// <param name="requested">The request's lease.</param>
    /// <param name="cancellation">Cancels the grant.</param>
    /// <returns>The lease.</returns>
    public async Task<long> SessionLeaseAsync(long requested, CancellationToken cancellation)
    {
        if (requested != 0)
            return requested;
        var granted = await new Kvorum.Etcd.Api.Lease.LeaseClient(_channel)
            .LeaseGrantAsync(new LeaseGrantRequest { TTL = SessionTtlSeconds }, cancellationToken: cancellation).ConfigureAwait(false);
        return granted.ID;
    }

    /// <summary>The URL to call for a listen URL: a wildcard address is reached on loopback.</summary>
    private static Uri Address(Uri listen)
    {
        if (!IPAddress.TryParse(listen.DnsSafeHost, out var ip))
            return listen;
        var host = ip.Equals(IPAddress.Any) ? "127.0.0.1" : ip.Equals(IPAddress.IPv6Any) ? "::1" : listen.Host;
        return new UriBuilder(listen) { Host = host }.Uri;
    }

    /// <inheritdoc/>
    public void Dispose() => _channel.Dispose();
}
