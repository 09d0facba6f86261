using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Server.Transport;

namespace Kvorum.Cli.Client;

/// <summary>
/// gRPC channels (HTTP/2, over TLS to https endpoints) to the configured endpoints, and the translation of gRPC failures into the
/// one-line errors etcdctl prints.
/// </summary>
internal sealed class EtcdConnection : IDisposable
{
    private readonly ClientSettings _settings;
    private readonly Dictionary<Uri, GrpcChannel> _channels = [];
    private readonly Lock _gate = new();

    /// <summary>The token of <c>--user</c>, sent with every call; null without a user.</summary>
    private readonly AuthTokenSource? _tokens;

    /// <summary>Creates a connection; channels connect lazily on first use.</summary>
    /// <param name="settings">Endpoints and timeouts.</param>
    public EtcdConnection(ClientSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        if (settings.Credentials is { } credentials)
            _tokens = new AuthTokenSource(credentials, settings.DialTimeout, settings.CommandTimeout, settings.Tls);
    }

    /// <summary>The endpoints, in the order they are tried.</summary>
    public IReadOnlyList<Uri> Endpoints => _settings.Endpoints;

    /// <summary>Opens a channel of its own (its own TCP connection) to <paramref name="endpoint"/>.</summary>
    /// <param name="endpoint">The endpoint.</param>
    /// <param name="dialTimeout">How long to wait for the TCP connection.</param>
    /// <param name="tls">The TLS of https endpoints; null for the system's defaults.</param>
    /// <param name="callCredentials">Adds a user's token to each call (<see cref="AuthTokenSource"/>); null for none.</param>
    /// <returns>A new channel; the caller disposes it.</returns>
    public static GrpcChannel OpenChannel(Uri endpoint, TimeSpan dialTimeout, ClientTls? tls = null, CallCredentials? callCredentials = null) =>
        GrpcChannel.ForAddress(endpoint, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                // Our own connect leaves gRPC's connectivity layer out: one connection per channel needs no
                // balancer, and its per-call pick cost the load generator CPU on every request (docs/benchmarks.md).
                ConnectCallback = static (context, cancellationToken) => TcpDialer.DialAsync(context.DnsEndPoint, cancellationToken),
                ConnectTimeout = dialTimeout,
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                // gRPC has no use for redirects, cookies or trace headers; each costs work on every call.
                AllowAutoRedirect = false,
                UseCookies = false,
                ActivityHeadersPropagator = null,
                SslOptions = tls?.Options() ?? new(),
            },
            DisposeHttpClient = true,
            MaxReceiveMessageSize = null,
            // A user's token (--user) rides every call as etcd's "token" metadata; gRPC sends call credentials over a
            // cleartext channel only when told to.
            Credentials = callCredentials is null ? null
                : ChannelCredentials.Create(endpoint.Scheme == Uri.UriSchemeHttps ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure, callCredentials),
            UnsafeUseInsecureChannelCallCredentials = callCredentials is not null && endpoint.Scheme != Uri.UriSchemeHttps,
        });

    /// <summary>The channel to <paramref name="endpoint"/>, opened on first use.</summary>
    /// <param name="endpoint">One of <see cref="Endpoints"/>.</param>
    public GrpcChannel Channel(Uri endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        lock (_gate)
        {
            if (!_channels.TryGetValue(endpoint, out var channel))
                _channels[endpoint] = channel = OpenChannel(endpoint, _settings.DialTimeout, _settings.Tls, _tokens?.CallCredentials);
            return channel;
        }
    }

    /// <summary>Call options with the command deadline.</summary>
    /// <param name="cancellation">Cancels the call.</param>
    public CallOptions Options(CancellationToken cancellation) =>
        new(deadline: DateTime.UtcNow + _settings.CommandTimeout, cancellationToken: cancellation);

    /// <summary>
    /// Runs <paramref name="call"/> against the first endpoint that answers: an unreachable endpoint moves on to the
    /// next; a server error ends the command.
    /// </summary>
    /// <typeparam name="T">The response type.</typeparam>
    /// <param name="call">The call, given a channel and the call options.</param>
    /// <param name="cancellation">Cancels the call.</param>
    /// <exception cref="CommandFailedException">The server answered with an error, or no endpoint answered.</exception>
    public async Task<T> CallAsync<T>(Func<GrpcChannel, CallOptions, Task<T>> call, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(call);
        RpcException? unreachable = null;
        foreach (var endpoint in _settings.Endpoints)
        {
            try
            {
                return await CallAsync(endpoint, call, cancellation).ConfigureAwait(false);
            }
            catch (RpcException e) when (IsUnreachable(e))
            {
                unreachable = e;
            }
        }

        throw new CommandFailedException(_settings.Endpoints.Count == 1
            ? UnreachableLine(_settings.Endpoints[0], unreachable!)
            : $"Error: no endpoint of {string.Join(',', _settings.Endpoints.Select(EndpointParser.Display))} is reachable ({Reason(unreachable!)})");
    }

    /// <summary>
    /// Runs <paramref name="call"/> against one endpoint. Unreachable endpoints surface as <see cref="RpcException"/>
    /// (see <see cref="IsUnreachable"/>); other server errors as <see cref="CommandFailedException"/>.
    /// </summary>
    /// <typeparam name="T">The response type.</typeparam>
    /// <param name="endpoint">The endpoint.</param>
    /// <param name="call">The call.</param>
    /// <param name="cancellation">Cancels the call.</param>
    public async Task<T> CallAsync<T>(Uri endpoint, Func<GrpcChannel, CallOptions, Task<T>> call, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(call);
        try
        {
            return await call(Channel(endpoint), Options(cancellation)).ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellation.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellation);
        }
        catch (RpcException e) when (!IsUnreachable(e))
        {
            throw new CommandFailedException(ErrorLine(e), e);
        }
    }

    /// <summary>
    /// Runs <paramref name="call"/> against every endpoint in parallel. An endpoint that cannot be reached or answers
    /// with an error gives one line among the failures; the others' answers are still returned.
    /// </summary>
    /// <typeparam name="T">The response type.</typeparam>
    /// <param name="call">The call, given a channel and the call options.</param>
    /// <param name="cancellation">Cancels the calls.</param>
    /// <returns>The answers in endpoint order, each with its endpoint as <c>host:port</c>, and the failures' lines.</returns>
    public async Task<(List<(string Endpoint, T Response)> Answers, List<string> Failures)> CallEachAsync<T>(
        Func<GrpcChannel, CallOptions, Task<T>> call, CancellationToken cancellation)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(call);
        async Task<(string Endpoint, T? Response, string? Failure)> CallOneAsync(Uri endpoint)
        {
            var display = EndpointParser.Display(endpoint);
            try
            {
                return (display, await CallAsync(endpoint, call, cancellation).ConfigureAwait(false), null);
            }
            catch (RpcException e) when (IsUnreachable(e))
            {
                return (display, null, UnreachableLine(endpoint, e));
            }
            catch (CommandFailedException e)
            {
                return (display, null, $"{e.Message} (endpoint {display})");
            }
        }

        var results = await Task.WhenAll(_settings.Endpoints.Select(CallOneAsync)).ConfigureAwait(false);
        return ([.. results.Where(r => r.Response is not null).Select(r => (r.Endpoint, r.Response!))], [.. results.Where(r => r.Failure is not null).Select(r => r.Failure!)]);
    }

    /// <summary>True when the call failed because the endpoint could not be reached at all.</summary>
    /// <param name="error">The failure.</param>
    /// <returns>Whether it is a connection failure.</returns>
    public static bool IsUnreachable(RpcException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error.StatusCode == StatusCode.Unavailable && error.Status.DebugException is not null
            || error.StatusCode == StatusCode.Unavailable && error.Status.Detail.StartsWith("Error connecting", StringComparison.Ordinal);
    }

    /// <summary>etcdctl's error line for a server error: <c>Error: etcdserver: ...</c>.</summary>
    /// <param name="error">The failure.</param>
    public static string ErrorLine(RpcException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return error.StatusCode switch
        {
            StatusCode.DeadlineExceeded => "Error: context deadline exceeded",
            _ when error.Status.Detail.Length > 0 => $"Error: {error.Status.Detail}",
            _ => $"Error: {error.StatusCode}",
        };
    }

    /// <summary>The line for one unreachable endpoint: <c>Error: endpoint 127.0.0.1:2379 is unreachable (Connection refused)</c>.</summary>
    /// <param name="endpoint">The endpoint.</param>
    /// <param name="error">The failure.</param>
    public static string UnreachableLine(Uri endpoint, RpcException error) =>
        $"Error: endpoint {EndpointParser.Display(endpoint)} is unreachable ({Reason(error)})";

    /// <summary>Why an endpoint could not be reached, in a few words.</summary>
    /// <param name="error">The failure.</param>
    /// <returns>The innermost reason, e.g. <c>Connection refused</c>.</returns>
    public static string Reason(RpcException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var inner = error.Status.DebugException;
        while (inner?.InnerException is not null && inner is not SocketException)
            inner = inner.InnerException;
        return inner?.Message ?? error.Status.Detail;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var channel in _channels.Values)
                channel.Dispose();
            _channels.Clear();
        }
        _tokens?.Dispose();
    }
}
