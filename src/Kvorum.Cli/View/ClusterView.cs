using Kvorum.Cli.Client;

namespace Kvorum.Cli.View;

/// <summary>
/// The view that <c>kvorum cluster up</c> starts beside its members (unless <c>--no-view</c>): its URL is printed with
/// the endpoints; an address already taken costs the view, not the cluster.
/// </summary>
internal static class ClusterView
{
    /// <summary>Starts a view of <paramref name="endpoints"/> on <paramref name="listen"/> and prints its URL; null when it could not listen.</summary>
    public static async Task<ViewServer?> StartAsync(TextWriter output, IReadOnlyList<Uri> endpoints, string listen, ClientTls? tls = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        var server = new ViewServer(new ClientSettings { Endpoints = endpoints, Tls = tls }, ViewCommand.ParseListen(listen));
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
