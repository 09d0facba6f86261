using Kvorum.Etcd.Serve;
using Kvorum.Lab.Topology;

namespace Kvorum.Lab;

/// <summary>The parameters of <c>kvorum lab up</c>.</summary>
internal sealed record LabOptions
{
    /// <summary>The environment variable that overrides the default lab directory.</summary>
    public const string DirectoryVariable = "KVORUM_LAB_DIR";

    /// <summary>Number of nodes.</summary>
    public int Nodes { get; init; } = 5;

    /// <summary>
    /// Members added as learners once the voters have a leader (etcd's <c>member add --learner</c>), numbered after
    /// the <see cref="Nodes"/> voters: they receive the log and snapshots, but neither vote nor count for a quorum.
    /// </summary>
    public int Learners { get; init; }

    /// <summary>The subnet for the nodes and the host's bridge address.</summary>
    public string Subnet { get; init; } = LabLayout.DefaultSubnet;

    /// <summary>Prefix of every name created.</summary>
    public string Prefix { get; init; } = LabLayout.DefaultPrefix;

    /// <summary>Where state file, data dirs and logs go.</summary>
    public string Directory { get; init; } = DefaultDirectory(Environment.GetEnvironmentVariable);

    /// <summary>How to start the kvorum executable (program, then leading arguments).</summary>
    public required IReadOnlyList<string> ServerCommand { get; init; }

    /// <summary>The <c>serve</c> settings every member shares (timeouts, PreVote); each member's own are added to them.</summary>
    public ServeArguments Serve { get; init; } = new();

    /// <summary>By how much <see cref="Serve"/>'s timeouts were slowed down (<see cref="Kvorum.Lab.Pace"/>); 1 when not.</summary>
    public int Pace { get; init; } = 1;

    /// <summary>
    /// Relays that delay every message between members (the split-vote scenario); null for direct links. Routed
    /// before the members start; the lab's links last only as long as it does.
    /// </summary>
    public Delay.PeerDelay? PeerDelay { get; init; }

    /// <summary>Mutual TLS on every member's client and peer ports, with a throwaway CA (<c>--tls</c>).</summary>
    public bool Tls { get; init; }

    /// <summary>How long <c>up</c> waits for a leader.</summary>
    public TimeSpan LeaderTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The lab directory: <c>$KVORUM_LAB_DIR</c>, else <c>/tmp/kvorum-lab</c>.</summary>
    /// <param name="environment">Reads an environment variable.</param>
    public static string DefaultDirectory(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return environment(DirectoryVariable) is { Length: > 0 } dir ? dir : Path.Combine(Path.GetTempPath(), "kvorum-lab");
    }
}
