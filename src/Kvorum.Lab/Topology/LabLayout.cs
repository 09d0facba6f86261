using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Kvorum.Lab.Topology;

/// <summary>
/// Names and addresses of a lab, derived from its prefix, subnet and size and nothing else, so every command
/// (and <c>down</c> after a crash) computes the same ones: namespaces <c>{prefix}-n1..N</c>, host-side veth ends
/// <c>{prefix}-v1..N</c>, bridge <c>{prefix}-br</c>; node K gets the K-th address of the subnet, the host's bridge
/// the last usable one. Inside its namespace every node listens on 2379 (client), 2380 (peer) and 2381 (metrics).
/// </summary>
internal sealed class LabLayout
{
    /// <summary>The client port inside each namespace (etcd's).</summary>
    public const int ClientPort = 2379;

    /// <summary>The peer port inside each namespace (etcd's).</summary>
    public const int PeerPort = 2380;

    /// <summary>The metrics and health port inside each namespace.</summary>
    public const int MetricsPort = 2381;

    /// <summary>The name of the veth end inside every namespace.</summary>
    public const string NodeInterface = "eth0";

    /// <summary>Default namespace prefix: namespaces <c>kvorum-n1..N</c>.</summary>
    public const string DefaultPrefix = "kvorum";

    /// <summary>Default subnet.</summary>
    public const string DefaultSubnet = "10.77.0.0/24";

    private LabLayout(string prefix, IPAddress network, int prefixLength, int nodes, string directory)
    {
        Prefix = prefix;
        Network = network;
        PrefixLength = prefixLength;
        Directory = directory;
        Bridge = $"{prefix}-br";
        HostAddress = Offset(network, (1L << (32 - prefixLength)) - 2);
        Nodes = [.. Enumerable.Range(1, nodes).Select(k => new NodeLayout(
            k,
            $"n{k}",
            $"{prefix}-n{k}",
            $"{prefix}-v{k}",
            Offset(network, k),
            Path.Combine(directory, $"n{k}"),
            Path.Combine(directory, $"n{k}.log")))];
    }

    /// <summary>The prefix of every name the lab creates.</summary>
    public string Prefix { get; }

    /// <summary>The subnet's network address.</summary>
    public IPAddress Network { get; }

    /// <summary>The subnet's prefix length.</summary>
    public int PrefixLength { get; }

    /// <summary>The subnet in CIDR notation.</summary>
    public string Subnet => $"{Network}/{PrefixLength}";

    /// <summary>The bridge in the host namespace.</summary>
    public string Bridge { get; }

    /// <summary>The host's address on the bridge: how lab commands reach the nodes.</summary>
    public IPAddress HostAddress { get; }

    /// <summary>Where the state file, data dirs and logs live.</summary>
    public string Directory { get; }

    /// <summary>The nodes, node 1 first.</summary>
    public IReadOnlyList<NodeLayout> Nodes { get; }

    /// <summary>Node <paramref name="number"/> (1-based).</summary>
    /// <param name="number">The node number.</param>
    /// <returns>Its layout.</returns>
    /// <exception cref="LabException">There is no such node.</exception>
    public NodeLayout Node(int number) =>
        number >= 1 && number <= Nodes.Count ? Nodes[number - 1] : throw new LabException($"no node {number}: the lab has nodes 1..{Nodes.Count}");

    /// <summary>Validates the parameters and computes the layout.</summary>
    /// <param name="prefix">Name prefix: lower-case letters and digits, at most 8 characters.</param>
    /// <param name="subnet">IPv4 CIDR with room for the nodes and the host.</param>
    /// <param name="nodes">Number of nodes, 1 to 9.</param>
    /// <param name="directory">The lab directory.</param>
    /// <exception cref="LabException">A parameter is out of range.</exception>
    public static LabLayout Create(string prefix, string subnet, int nodes, string directory)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(subnet);
        ArgumentNullException.ThrowIfNull(directory);
        if (prefix.Length is 0 or > 8 || !prefix.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9')))
            throw new LabException($"--prefix must be 1 to 8 lower-case letters or digits, got '{prefix}'");
        if (nodes is < 1 or > 9)
            throw new LabException($"--nodes must be between 1 and 9, got {nodes}");
        (var network, var length) = ParseSubnet(subnet);
        var usable = (1L << (32 - length)) - 2;
        if (usable < nodes + 1)
            throw new LabException($"--subnet {subnet} has {usable} usable addresses; {nodes} nodes and the host need {nodes + 1}");
        return new LabLayout(prefix, network, length, nodes, Path.GetFullPath(directory));
    }

    /// <summary>Parses an IPv4 CIDR such as <c>10.77.0.0/24</c>; host bits must be zero.</summary>
    /// <param name="subnet">The text.</param>
    /// <returns>Network address and prefix length.</returns>
    /// <exception cref="LabException">Not an IPv4 CIDR with a prefix of 8 to 29 bits.</exception>
    public static (IPAddress Network, int PrefixLength) ParseSubnet(string subnet)
    {
        ArgumentNullException.ThrowIfNull(subnet);
        var parts = subnet.Split('/');
        if (parts.Length != 2
            || !IPAddress.TryParse(parts[0], out var address)
            || address.AddressFamily != AddressFamily.InterNetwork
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var length)
            || length is < 8 or > 29)
        {
            throw new LabException($"--subnet must be an IPv4 network like 10.77.0.0/24 (prefix 8..29), got '{subnet}'");
        }

        var value = ToUInt(address);
        var mask = length == 0 ? 0 : uint.MaxValue << (32 - length);
        if ((value & ~mask) != 0)
            throw new LabException($"--subnet {subnet} has host bits set; did you mean {FromUInt(value & mask)}/{length}?");
        return (address, length);
    }

    /// <summary>True when the route destination <paramref name="destination"/> (<c>a.b.c.d[/len]</c>) shares addresses with the subnet.</summary>
    /// <param name="destination">A destination from <c>ip -4 route show</c>.</param>
    /// <returns>Whether they overlap; false for anything that is not an IPv4 prefix.</returns>
    public bool Overlaps(string destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var parts = destination.Split('/');
        if (!IPAddress.TryParse(parts[0], out var address) || address.AddressFamily != AddressFamily.InterNetwork)
            return false;
        var length = parts.Length > 1 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var l) ? l : 32;
        var common = Math.Min(length, PrefixLength);
        var mask = common == 0 ? 0 : uint.MaxValue << (32 - common);
        return (ToUInt(address) & mask) == (ToUInt(Network) & mask);
    }

    private static IPAddress Offset(IPAddress network, long offset) => FromUInt((uint)(ToUInt(network) + offset));

    private static uint ToUInt(IPAddress address)
    {
        var b = address.GetAddressBytes();
        return ((uint)b[0] << 24) | ((uint)b[1] << 16) | ((uint)b[2] << 8) | b[3];
    }

    private static IPAddress FromUInt(uint value) =>
        new([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);
}
