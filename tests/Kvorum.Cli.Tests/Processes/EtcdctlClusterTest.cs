namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// A Kvorum cluster of real processes on loopback, started before each test and stopped after it, that the test
/// drives with etcdctl (<see cref="Ctl"/>) as a user would.
/// </summary>
/// <param name="size">Members.</param>
/// <param name="flags">Flags every member is started with.</param>
public abstract class EtcdctlClusterTest(int size, params string[] flags) : IAsyncLifetime
{
    private protected ProcessCluster Cluster { get; } = new(size, flags);

    public async Task InitializeAsync()
    {
        await Cluster.StartAllWithLeaderAsync(TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    /// <summary>Runs etcdctl against every member's endpoint.</summary>
    protected Task<(int Code, string Out, string Err)> Ctl(params string[] args) => Etcdctl.RunAsync(Cluster.Endpoints(), null, args);
}
