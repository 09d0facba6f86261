using System.Net;
using Kvorum.Cli.Client;
using Kvorum.Cli.Tests.Processes;
using Kvorum.Cli.View;

namespace Kvorum.Cli.Tests.View;

/// <summary>
/// The cluster and view that a class of page tests looks at (a class fixture): 3 real members and a
/// <c>kvorum view</c> server over them, started only when a browser is there.
/// </summary>
public sealed class ViewedCluster : IAsyncLifetime
{
    private readonly ProcessCluster _cluster = new(3);

    internal ViewServer? View { get; private set; }

    public async Task InitializeAsync()
    {
        if (Chromium.Path is null && Firefox.Path is null)
            return;
        await _cluster.StartAllWithLeaderAsync(TimeSpan.FromSeconds(30));
        var settings = new ClientSettings { Endpoints = [.. _cluster.Members.Keys.Select(n => new Uri(_cluster.ClientUrl(n)))] };
        View = new ViewServer(settings, new IPEndPoint(IPAddress.Loopback, 0));
        await View.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (View is not null)
            await View.DisposeAsync();
        await _cluster.DisposeAsync();
    }
}
