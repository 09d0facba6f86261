using System.Text.Json.Serialization;
using Kvorum.Etcd.Serve;
using Kvorum.Lab.Faults;
using Kvorum.Lab.Topology;

namespace Kvorum.Lab.State;

/// <summary>
/// What a lab created and what it is doing, kept in <c>state.json</c> in the lab directory so that every later
/// command — and <c>down</c> after a failed <c>up</c> — knows it. Written before each thing is created.
/// </summary>
internal sealed class LabState
{
    /// <summary>Prefix of every name created.</summary>
    public required string Prefix { get; init; }

    /// <summary>The subnet in CIDR notation.</summary>
    public required string Subnet { get; init; }

    /// <summary>The number of nodes.</summary>
    public required int Nodes { get; init; }

    /// <summary>How many of the <see cref="Nodes"/> members, the last ones, joined as learners.</summary>
    public int Learners { get; init; }

    /// <summary>The members that bootstrapped the cluster as voters: the first <see cref="Nodes"/> - <see cref="Learners"/>.</summary>
    [JsonIgnore]
    public int Voters => Nodes - Learners;

    /// <summary>How to start the kvorum executable: program and leading arguments (e.g. dotnet and the dll).</summary>
    public required IReadOnlyList<string> ServerCommand { get; init; }

    /// <summary>The <c>serve</c> settings every member shares (timeouts, PreVote); <c>NodeLauncher</c> adds each one's own.</summary>
    public ServeArguments Serve { get; init; } = new();

    /// <summary>By how much <see cref="Serve"/>'s timeouts were slowed down (<c>--pace</c>); 1 when not.</summary>
    public int Pace { get; init; } = 1;

    /// <summary>Whether the members run with mutual TLS, their certificates in <c>tls/</c> (<c>lab up --tls</c>).</summary>
    public bool Tls { get; init; }

    /// <summary>The pid of each node's server (index 0 is node 1); 0 when it is not running.</summary>
    public int[] Pids { get; set; } = [];

    /// <summary>The faults in force.</summary>
    public List<Fault> Faults { get; init; } = [];

    /// <summary>The id the next fault gets.</summary>
    public int NextFaultId { get; set; } = 1;

    /// <summary>The layout of this lab in <paramref name="directory"/>.</summary>
    /// <param name="directory">The lab directory holding the state file.</param>
    public LabLayout Layout(string directory) => LabLayout.Create(Prefix, Subnet, Nodes, directory);

    /// <summary>The faults in force as a set.</summary>
    public FaultSet FaultSet() => new(Faults);
}
