using System.Net.Sockets;
using Grpc.Net.Client;

namespace Kvorum.Server.Transport;

/// <summary>Tuning of the peer transport (<see cref="GrpcPeerTransport"/> and <see cref="RaftPeerService"/>).</summary>
internal sealed record TransportOptions
{
    /// <summary>
    /// Messages queued per peer before <see cref="IPeerTransport.Send"/> starts dropping (and reporting the peer
    /// unreachable). Bounds the memory a slow peer can pin; at least 1.
    /// </summary>
    public int QueueCapacity { get; init; } = 4096;

    /// <summary>Bytes of snapshot data per <c>SnapshotChunk</c>; at least 1 and well below <see cref="MaxMessageSize"/>.</summary>
    public int SnapshotChunkSize { get; init; } = 1024 * 1024;

    /// <summary>
    /// Largest gRPC message in bytes, on both the sending channel and the receiving service. A batch never
    /// exceeds it; a single Raft message larger than this is dropped and its peer reported unreachable.
    /// </summary>
    public int MaxMessageSize { get; init; } = 16 * 1024 * 1024;

    /// <summary>First delay before reconnecting a broken stream; doubles on each failure up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Longest delay between reconnection attempts. Each delay is jittered down to half its value.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a TCP connect to a peer may take before the attempt counts as failed.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Idle time after which an HTTP/2 PING checks the connection; a peer that does not answer within the same
    /// time is considered gone, so a silent network partition breaks the stream instead of hanging it.
    /// </summary>
    public TimeSpan KeepAlivePingDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The peer TLS (<c>--peer-cert-file</c>, ...): the certificate presented to peers whose URLs are https, and what
    /// their certificates must chain to. Null: https peers are checked against the system's CAs, with no certificate
    /// of ours.
    /// </summary>
    public Security.TransportSecurity? Security { get; init; }

    /// <summary>Throws if a value is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(QueueCapacity, 1, nameof(QueueCapacity));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxMessageSize, 1024, nameof(MaxMessageSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(SnapshotChunkSize, 1, nameof(SnapshotChunkSize));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(SnapshotChunkSize, MaxMessageSize - 1024, nameof(SnapshotChunkSize));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(MinBackoff, TimeSpan.Zero, nameof(MinBackoff));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBackoff, MinBackoff, nameof(MaxBackoff));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ConnectTimeout, TimeSpan.Zero, nameof(ConnectTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(KeepAlivePingDelay, TimeSpan.Zero, nameof(KeepAlivePingDelay));
    }

    /// <summary>
    /// The options of a channel to a peer's port: these timeouts and message limits, and connections opened by
    /// <see cref="TcpDialer"/>. A connect callback of our own also keeps the channel's connectivity layer
    /// (subchannels) out: that layer has a reconnection backoff of its own, and a connect budget that spans its
    /// retries, so a member that came back could stay unreachable for up to <see cref="ConnectTimeout"/> after it was
    /// listening, which stretched failovers (docs/benchmarks.md, test notes). Without it each attempt is one TCP
    /// connect, and the caller's backoff is the only one.
    /// </summary>
    /// <param name="pings">When HTTP/2 keep-alive pings are sent.</param>
    /// <param name="opening">Told each socket before it connects.</param>
    public GrpcChannelOptions ChannelOptions(HttpKeepAlivePingPolicy pings, Action<Socket>? opening = null) => new()
    {
        HttpHandler = new SocketsHttpHandler
        {
            ConnectCallback = (context, cancellationToken) => TcpDialer.DialAsync(context.DnsEndPoint, cancellationToken, opening),
            ConnectTimeout = ConnectTimeout,
            KeepAlivePingDelay = KeepAlivePingDelay,
            KeepAlivePingTimeout = KeepAlivePingDelay,
            KeepAlivePingPolicy = pings,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            EnableMultipleHttp2Connections = true,
            // Used for https peer URLs only; the TLS handshake runs on the stream TcpDialer returns.
            SslOptions = Security?.ClientOptions() ?? new(),
        },
        DisposeHttpClient = true,
        MaxSendMessageSize = MaxMessageSize,
        MaxReceiveMessageSize = MaxMessageSize,
    };
}
