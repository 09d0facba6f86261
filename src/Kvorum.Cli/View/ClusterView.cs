using Kvorum.Cli.Client;

namespace Kvorum.Cli.View;

/// <summary>
/// The view that <c>kvorum cluster up</c> starts beside its members (unless <c>--no-view</c>): its URL is printed with
/// the endpoints; an address already taken costs the view, not the cluster.
/// </summary>
internal static class ClusterView
{
    /// <summary>Starts a view of <paramref name="endpoints"/> on <paramref name="listen"/> and prints its URL; null when it could not listen.</summary>
    /// <param name="output">Where the URL is printed.</param>
    /// <param name="endpoints">The members.</param>
    /// <param name="listen">The page's address.</param>
    /// <param name="tls">How to reach the members over TLS, or null.</param>
    /// <param name="controls">What its page may do to the members (kill and start), or null for a view that only looks.</param>
    public static async Task<ViewServer?> StartAsync(TextWriter output, IReadOnlyList<Uri> endpoints, string listen, ClientTls? tls = null, IViewControls? controls = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        var server = new ViewServer(new ClientSettings { Endpoints = endpoints, Tls = tls }, ViewCommand.ParseListen(listen), controls);
        try
        {
            await ViewCommand.StartAsync(server, listen).ConfigureAwait(false);
        }
        catch (CommandFailedException e)
        {
            await server.DisposeAsync().ConfigureAwait(false);
            await output.WriteLineAsync($"{e.Message} (--view-listen picks another address; the cluster runs without a view)").ConfigureAwait(false);
            return null;
        }
        await output.WriteLineAsync($"view: {server.Url}").ConfigureAwait(false);
        return server;
    }
}
