using System.Net;

namespace Kvorum.Lab.Topology;

/// <summary>One node of the lab: its names, address, URLs and files.</summary>
/// <param name="Number">1-based node number.</param>
/// <param name="Name">Member name (<c>n1</c>).</param>
/// <param name="Namespace">Network namespace (<c>kvorum-n1</c>).</param>
/// <param name="HostVeth">The veth end in the host namespace, on the bridge.</param>
/// <param name="Address">The node's address inside its namespace.</param>
/// <param name="DataDir">The member's data directory.</param>
/// <param name="LogFile">The member's stdout and stderr.</param>
internal sealed record NodeLayout(int Number, string Name, string Namespace, string HostVeth, IPAddress Address, string DataDir, string LogFile)
{
    /// <summary>The client URL, reachable from the host and the other namespaces.</summary>
    public Uri ClientUrl => new($"http://{Address}:{LabLayout.ClientPort}");

    /// <summary>The peer URL.</summary>
    public Uri PeerUrl => new($"http://{Address}:{LabLayout.PeerPort}");

    /// <summary>The metrics URL (<c>/metrics</c>, <c>/health</c>).</summary>
    public Uri MetricsUrl => new($"http://{Address}:{LabLayout.MetricsPort}");
}
