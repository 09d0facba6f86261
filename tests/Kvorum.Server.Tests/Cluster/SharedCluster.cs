namespace Kvorum.Server.Tests.Cluster;

/// <summary>
/// A 3-member <see cref="LocalCluster"/> started once for a whole test class (<c>IClassFixture</c>) and stopped after
/// its last test, with a dotnet-etcd client on every member. For classes whose tests neither stop members nor depend
/// on a fresh store: each of them uses keys of its own, and xunit runs the tests of one class one after another.
/// </summary>
public sealed class SharedCluster : IAsyncLifetime
{
    internal LocalCluster Cluster { get; } = new(3);

    /// <summary>A client on every member, once a put through it succeeded.</summary>
    public dotnet_etcd.EtcdClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Cluster.StartAll();
        try
        {
            Client = await Cluster.ConnectAsync();
        }
        catch (Grpc.Core.RpcException e)
        {
            throw new TimeoutException($"no put succeeded within 20 s ({e.Status.Detail}): {await Cluster.DescribeAsync()}");
        }
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose(); // null if no put ever succeeded
        await Cluster.DisposeAsync();
    }
}
