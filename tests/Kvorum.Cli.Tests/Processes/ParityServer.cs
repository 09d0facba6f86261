using System.Globalization;
using System.Text.Json;
using Kvorum.Tests.Shared;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// A server the client parity tests run their commands against, with the names in its answers that must differ
/// from another server's (cluster and member ids) and the placeholders that replace them before outputs are compared.
/// The tests take it as a parameter so that the same tests can run against etcd and against a Kvorum cluster.
/// </summary>
internal interface IParityServer : IAsyncDisposable
{
    /// <summary>The client URL to give <c>--endpoints</c>.</summary>
    string ClientUrl { get; }

    /// <summary>Each id as it appears in output, with its placeholder.</summary>
    IReadOnlyList<(string Value, string Placeholder)> Names { get; }
}

/// <summary>A one-member etcd (<see cref="EtcdServerProcess"/>) as a parity server.</summary>
internal sealed class EtcdParityServer : IParityServer
{
    private readonly EtcdServerProcess _server;

    private EtcdParityServer(EtcdServerProcess server, IReadOnlyList<(string, string)> names)
    {
        _server = server;
        Names = names;
    }

    public string ClientUrl => _server.ClientUrl;

    public IReadOnlyList<(string Value, string Placeholder)> Names { get; }

    /// <summary>Starts etcd and waits until it answers.</summary>
    public static async Task<IParityServer> StartAsync()
    {
        EtcdServerProcess.Require();
        Etcdctl.Require();
        var server = new EtcdServerProcess(FreePorts.Next);
        try
        {
            return new EtcdParityServer(server, await IdsAsync(server.ClientUrl));
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>The cluster and member ids as <c>endpoint status -w json</c> gives them, once the server answers.</summary>
    internal static async Task<IReadOnlyList<(string, string)>> IdsAsync(string clientUrl)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var (code, output, error) = await Etcdctl.RunAsync(clientUrl, null, "endpoint", "status", "-w", "json");
            if (code == 0)
            {
                using var json = JsonDocument.Parse(output);
                var header = json.RootElement[0].GetProperty("Status").GetProperty("header");
                return
                [
                    (header.GetProperty("cluster_id").GetUInt64().ToString(CultureInfo.InvariantCulture), "CLUSTER"),
                    (header.GetProperty("member_id").GetUInt64().ToString(CultureInfo.InvariantCulture), "MEMBER"),
                ];
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the server at {clientUrl} did not answer: {error}");
            await Task.Delay(100);
        }
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}

/// <summary>A one-member Kvorum (<see cref="ProcessCluster"/>, real <c>kvorum serve</c>) as a parity server.</summary>
internal sealed class KvorumParityServer : IParityServer
{
    private readonly ProcessCluster _cluster;

    private KvorumParityServer(ProcessCluster cluster, IReadOnlyList<(string, string)> names)
    {
        _cluster = cluster;
        Names = names;
    }

    public string ClientUrl => _cluster.ClientUrl("m1");

    public IReadOnlyList<(string Value, string Placeholder)> Names { get; }

    /// <summary>Starts the member and waits until it answers.</summary>
    public static async Task<IParityServer> StartAsync()
    {
        Etcdctl.Require();
        var cluster = new ProcessCluster(1);
        try
        {
            cluster.StartAll();
            var names = await EtcdParityServer.IdsAsync(cluster.ClientUrl("m1"));
            // A one-member etcd leads before its client port opens; a Kvorum member answers Status sooner, and until
            // it has elected itself it refuses writes at once with "no leader", which the scripts would see.
            await WaitForLeaderAsync(cluster.ClientUrl("m1"));
            return new KvorumParityServer(cluster, names);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public ValueTask DisposeAsync() => _cluster.DisposeAsync();

    private static async Task WaitForLeaderAsync(string clientUrl)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var (code, output, error) = await Etcdctl.RunAsync(clientUrl, null, "endpoint", "status", "-w", "json");
            if (code == 0)
            {
                using var json = JsonDocument.Parse(output);
                if (json.RootElement[0].GetProperty("Status").TryGetProperty("leader", out var leader) && leader.GetUInt64() != 0)
                    return;
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"the member at {clientUrl} elected no leader: {error}");
            await Task.Delay(100);
        }
    }
}
