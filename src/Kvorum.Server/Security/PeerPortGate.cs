using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Kvorum.Server.Security;

/// <summary>
/// Keeps the peer services (<c>kvorum.raft.*</c>: Raft messages, snapshots, lease forwarding) to the peer ports. Every
/// gRPC service is mapped once for all of Kestrel's listeners, so without this gate a stranger could send Raft messages
/// to the client port, which may take no client certificate, and so go round the peer port's mutual TLS.
/// </summary>
internal static class PeerPortGate
{
    private const string PeerServicePrefix = "/kvorum.raft.";

    /// <summary>Answers 404 (gRPC: Unimplemented) to a peer call that did not come in on one of <paramref name="peerUrls"/>' ports.</summary>
    /// <param name="app">The member's application.</param>
    /// <param name="peerUrls">The listen peer URLs.</param>
    public static void UsePeerPortGate(this IApplicationBuilder app, IEnumerable<Uri> peerUrls)
    {
        ArgumentNullException.ThrowIfNull(app);
        var ports = peerUrls.Select(url => url.Port).ToHashSet();
        app.Use(next => context =>
        {
            if (context.Request.Path.Value?.StartsWith(PeerServicePrefix, StringComparison.Ordinal) == true && !ports.Contains(context.Connection.LocalPort))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }
            return next(context);
        });
    }
}
