using Kvorum.Etcd.Serve;

namespace Kvorum.Cli.Cluster;

/// <summary>One member of a local cluster: its name, ports and files.</summary>
/// <param name="Name">infra1, infra2, ...</param>
/// <param name="ClientPort">Port of its client URL on 127.0.0.1.</param>
/// <param name="PeerPort">Port of its peer URL on 127.0.0.1.</param>
/// <param name="DataDir">Its data directory.</param>
/// <param name="LogFile">Where its stdout and stderr go.</param>
internal sealed record LocalMember(string Name, int ClientPort, int PeerPort, string DataDir, string LogFile)
{
    /// <summary>The client URL.</summary>
    public Uri ClientUrl => new($"http://127.0.0.1:{ClientPort}");

    /// <summary>The peer URL.</summary>
    public Uri PeerUrl => new($"http://127.0.0.1:{PeerPort}");
}

/// <summary>
/// etcd's local-cluster convention (its Procfile): members infra1..infraN on loopback; infra1 serves clients on the
/// base port (2379) and peers on base+1 (2380); infraK for K ≥ 2 on K·10000 + base (22379/22380, 32379/32380, ...).
/// </summary>
internal static class ClusterLayout
{
    /// <summary>The default base port.</summary>
    public const int DefaultBasePort = 2379;

    /// <summary>The token every local cluster is started with.</summary>
    public const string Token = "kvorum-local-cluster";

    /// <summary>Lays out <paramref name="nodes"/> members.</summary>
    /// <param name="nodes">How many members (at least 1).</param>
    /// <param name="dataRoot">The directory holding each member's data dir and log.</param>
    /// <param name="basePort">infra1's client port.</param>
    /// <returns>The members, infra1 first.</returns>
    /// <exception cref="UsageException">Too few nodes, or a port would fall outside 1..65535.</exception>
    public static IReadOnlyList<LocalMember> Plan(int nodes, string dataRoot, int basePort = DefaultBasePort)
    {
        ArgumentNullException.ThrowIfNull(dataRoot);
        if (nodes < 1)
            throw new UsageException($"--nodes must be at least 1, got {nodes}");
        if (basePort is < 1 or > 65534)
            throw new UsageException($"--base-port must be between 1 and 65534, got {basePort}");
        if (dataRoot.Trim().Length == 0)
            throw new UsageException("--data must not be empty");

        var members = new List<LocalMember>(nodes);
        for (var k = 1; k <= nodes; k++)
        {
            var client = k == 1 ? basePort : k * 10_000L + basePort;
            if (client + 1 > 65535)
                throw new UsageException($"--nodes {nodes} with --base-port {basePort} needs port {client + 1} for infra{k}, above 65535");
            var name = $"infra{k}";
            members.Add(new LocalMember(name, (int)client, (int)client + 1, Path.Combine(dataRoot, name), Path.Combine(dataRoot, name + ".log")));
        }

        return members;
    }

    /// <summary>The <c>kvorum serve</c> arguments of <paramref name="member"/>; the same on every run.</summary>
    /// <param name="member">The member.</param>
    /// <param name="all">Every member of the cluster.</param>
    /// <returns>Its name, data directory, URLs and the cluster it bootstraps with the others.</returns>
    public static ServeArguments Serve(LocalMember member, IReadOnlyList<LocalMember> all)
    {
        ArgumentNullException.ThrowIfNull(member);
        ArgumentNullException.ThrowIfNull(all);
        return new ServeArguments
        {
            Name = member.Name,
            DataDir = member.DataDir,
            ListenClientUrls = [member.ClientUrl],
            AdvertiseClientUrls = [member.ClientUrl],
            ListenPeerUrls = [member.PeerUrl],
            InitialAdvertisePeerUrls = [member.PeerUrl],
            InitialCluster = [.. all.Select(m => new InitialClusterMember(m.Name, m.PeerUrl))],
            InitialClusterToken = Token,
            JoinExistingCluster = false,
        };
    }
}
