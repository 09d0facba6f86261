using System.Net;
using System.Net.Sockets;

namespace Kvorum.Server.Transport;

/// <summary>
/// Opens the TCP connections of a gRPC channel's HTTP/2 handler itself (a <see cref="SocketsHttpHandler.ConnectCallback"/>).
/// A channel whose handler has a connect callback of its own leaves out gRPC's connectivity layer (subchannels),
/// with its reconnection backoff and its per-call pick: each connect is then one TCP connect, when a call needs it.
/// </summary>
internal static class TcpDialer
{
    /// <summary>Connects to <paramref name="endPoint"/> with Nagle off.</summary>
    /// <param name="endPoint">The host and port from the handler's context.</param>
    /// <param name="cancellationToken">The handler's connect timeout, or the request's cancellation.</param>
    /// <param name="opening">Told the socket before it connects (to close it from elsewhere if need be).</param>
    /// <returns>The connected stream, which owns the socket.</returns>
    public static async ValueTask<Stream> DialAsync(DnsEndPoint endPoint, CancellationToken cancellationToken, Action<Socket>? opening = null)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            opening?.Invoke(socket);
            await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
