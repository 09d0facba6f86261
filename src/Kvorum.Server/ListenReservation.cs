using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace Kvorum.Server;

/// <summary>
/// The member's listen addresses, bound before it touches its data directory and handed to Kestrel, which listens on
/// them once the member has loaded. A port that is taken then fails the start before anything is written, and no
/// other process can take a port between that check and the listen.
/// </summary>
/// <remarks>
/// A socket that is bound but not listening refuses connections, so clients still turn to another member at once
/// while this one loads (see <see cref="Node.KvorumNode.Load"/>).
/// </remarks>
internal sealed class ListenReservation : IDisposable
{
    private readonly Dictionary<IPEndPoint, Socket> _bound;

    private ListenReservation(Dictionary<IPEndPoint, Socket> bound) => _bound = bound;

    /// <summary>Binds every endpoint of <paramref name="urls"/>; on failure says which one and why, and binds none.</summary>
    public static ListenReservation? TryBind(IEnumerable<(Uri Url, IPEndPoint Endpoint)> urls, out string error)
    {
        var bound = new Dictionary<IPEndPoint, Socket>();
        foreach (var (url, endpoint) in urls)
        {
            if (bound.ContainsKey(endpoint))
                continue;
            try
            {
                bound[endpoint] = SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
            }
            catch (SocketException e)
            {
                foreach (var socket in bound.Values)
                    socket.Dispose();
                // Kestrel's words for the same failure.
                var reason = e.SocketErrorCode == SocketError.AddressAlreadyInUse ? "address already in use" : e.Message;
                error = $"Failed to bind to address {url.GetLeftPart(UriPartial.Authority)}: {reason}.";
                return null;
            }
        }
        error = "";
        return new ListenReservation(bound);
    }

    /// <summary>
    /// For <see cref="SocketTransportOptions.CreateBoundListenSocket"/>: the socket bound for <paramref name="endpoint"/>,
    /// which Kestrel then owns, or a new one for an endpoint not reserved here.
    /// </summary>
    public Socket Take(EndPoint endpoint)
    {
        lock (_bound)
        {
            if (endpoint is IPEndPoint ip && _bound.Remove(ip, out var socket))
                return socket;
        }
        return SocketTransportOptions.CreateDefaultBoundListenSocket(endpoint);
    }

    /// <summary>Closes the sockets Kestrel did not take (the start failed before it listened).</summary>
    public void Dispose()
    {
        lock (_bound)
        {
            foreach (var socket in _bound.Values)
                socket.Dispose();
            _bound.Clear();
        }
    }
}
