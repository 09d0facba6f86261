using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Kvorum.Server.Security;

/// <summary>
/// A member's two TLS sides, made from its options at start: the client side (client URLs and https metrics URLs) and
/// the peer side (peer URLs, and the connections to peers).
/// </summary>
/// <param name="Client">The client side, or null for cleartext.</param>
/// <param name="Peer">The peer side, or null for cleartext.</param>
internal sealed record ServerTls(TransportSecurity? Client, TransportSecurity? Peer)
{
    /// <summary>
    /// Reads and checks every TLS file. A file that cannot be used is one line on standard error, and null.
    /// </summary>
    /// <param name="options">The member's options.</param>
    /// <returns>The two sides, or null after saying what is wrong.</returns>
    public static ServerTls? Create(ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            static void Warn(string message) => Console.Error.WriteLine($"kvorum serve: warning: certificate not reloaded: {message}");
            var clientHosts = options.ListenClientUrls.Concat(options.AdvertiseClientUrls).Select(url => url.Host);
            var peerHosts = options.ListenPeerUrls.Concat(options.InitialAdvertisePeerUrls).Select(url => url.Host);
            return new ServerTls(
                TransportSecurity.Create(options.ClientTls, options.Name, clientHosts, Warn),
                TransportSecurity.Create(options.PeerTls, options.Name, peerHosts, Warn));
        }
        catch (TlsSetupException e)
        {
            Console.Error.WriteLine($"kvorum serve: {e.Message}");
            return null;
        }
    }

    /// <summary>Turns TLS on for <paramref name="listen"/> when <paramref name="url"/> is https: the peer side on a peer URL, else the client side.</summary>
    /// <param name="listen">The Kestrel listener of <paramref name="url"/>.</param>
    /// <param name="url">A listen URL.</param>
    /// <param name="options">The member's options.</param>
    /// <exception cref="TlsSetupException">The URL is https but its side has no certificate.</exception>
    public void UseOn(ListenOptions listen, Uri url, ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(options);
        if (url.Scheme != Uri.UriSchemeHttps)
            return;
        var side = options.ListenPeerUrls.Contains(url) && !options.ListenClientUrls.Contains(url) ? Peer : Client;
        (side ?? throw new TlsSetupException($"{url} is https but no certificate is given for it")).UseOn(listen);
    }
}
