using System.Globalization;
using Kvorum.Lab.Faults;
using Kvorum.Lab.Topology;

namespace Kvorum.Lab.Host;

/// <summary>
/// Creates and removes the lab's network: a bridge in the host namespace holding the host's address, and per
/// node a namespace with a veth pair (node end <c>eth0</c> inside, with an address, no default route) plus
/// loopback, and an empty <c>kvorum_lab</c> nft table. Nothing outside these names is touched.
/// </summary>
internal static class NetworkBuilder
{
    private const string Ip = "ip";

    /// <summary>Refuses when a name the lab would create exists, or the subnet overlaps a route of the host.</summary>
    /// <param name="layout">The lab.</param>
    /// <exception cref="LabException">The lab would collide with something.</exception>
    public static void CheckFree(LabLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var namespaces = Namespaces();
        foreach (var node in layout.Nodes)
        {
            if (namespaces.Contains(node.Namespace))
                throw new LabException($"namespace {node.Namespace} already exists: a lab is up; run `kvorum lab down` first");
        }

        if (LinkExists(layout.Bridge))
            throw new LabException($"link {layout.Bridge} already exists: a lab is up; run `kvorum lab down` first");
        foreach (var line in CommandRunner.Run(Ip, ["-4", "route", "show"]).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var destination = line.Split(' ')[0];
            if (destination != "default" && layout.Overlaps(destination))
                throw new LabException($"--subnet {layout.Subnet} overlaps the host's route '{line.Trim()}'; choose another subnet");
        }
    }

    /// <summary>Creates the bridge and the host's address on it.</summary>
    /// <param name="layout">The lab.</param>
    public static void CreateBridge(LabLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        CommandRunner.Run(Ip, ["link", "add", layout.Bridge, "type", "bridge"]);
        CommandRunner.Run(Ip, ["addr", "add", $"{layout.HostAddress}/{layout.PrefixLength}", "dev", layout.Bridge]);
        CommandRunner.Run(Ip, ["link", "set", layout.Bridge, "up"]);
    }

    /// <summary>Creates node <paramref name="node"/>'s namespace, veth pair, addresses and empty nft table.</summary>
    /// <param name="layout">The lab.</param>
    /// <param name="node">The node.</param>
    public static void CreateNode(LabLayout layout, NodeLayout node)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(node);
        CommandRunner.Run(Ip, ["netns", "add", node.Namespace]);
        CommandRunner.Run(Ip, ["link", "add", node.HostVeth, "type", "veth", "peer", "name", LabLayout.NodeInterface, "netns", node.Namespace]);
        CommandRunner.Run(Ip, ["link", "set", node.HostVeth, "master", layout.Bridge, "up"]);
        CommandRunner.Run(Ip, ["-n", node.Namespace, "addr", "add", $"{node.Address}/{layout.PrefixLength}", "dev", LabLayout.NodeInterface]);
        CommandRunner.Run(Ip, ["-n", node.Namespace, "link", "set", LabLayout.NodeInterface, "up"]);
        CommandRunner.Run(Ip, ["-n", node.Namespace, "link", "set", "lo", "up"]);
        ApplyFaults(layout, new FaultSet([]), node);
    }

    /// <summary>Makes node <paramref name="node"/>'s nft table and qdisc match <paramref name="faults"/>.</summary>
    /// <param name="layout">The lab.</param>
    /// <param name="faults">The faults in force.</param>
    /// <param name="node">The node.</param>
    public static void ApplyFaults(LabLayout layout, FaultSet faults, NodeLayout node)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(faults);
        ArgumentNullException.ThrowIfNull(node);
        CommandRunner.Run(Ip, ["netns", "exec", node.Namespace, "nft", "-f", "-"], FirewallScript.Render(layout, faults, node.Number));
        var rate = faults.Rate(node.Number);
        if (rate is not null)
        {
            // tbf shapes what the node sends; burst and latency sized for a few full-size packets.
            CommandRunner.Run(Ip, ["netns", "exec", node.Namespace, "tc", "qdisc", "replace", "dev", LabLayout.NodeInterface, "root", "tbf", "rate", rate, "burst", "32kbit", "latency", "400ms"]);
        }
        else
        {
            // No qdisc of ours may be there; deleting the default root qdisc fails harmlessly.
            CommandRunner.TryRun(Ip, ["netns", "exec", node.Namespace, "tc", "qdisc", "del", "dev", LabLayout.NodeInterface, "root"]);
        }
    }

    /// <summary>
    /// Removes every namespace and the bridge of <paramref name="layout"/>, killing any process still inside a
    /// namespace first. Absent pieces are skipped, so it can be run any number of times.
    /// </summary>
    /// <param name="layout">The lab.</param>
    /// <returns>What was removed, one entry per thing.</returns>
    public static IReadOnlyList<string> Destroy(LabLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        var removed = new List<string>();
        var namespaces = Namespaces();
        foreach (var node in layout.Nodes)
        {
            if (!namespaces.Contains(node.Namespace))
                continue;
            (_, var pids, _) = CommandRunner.TryRun(Ip, ["netns", "pids", node.Namespace]);
            foreach (var pid in pids.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                if (int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && ProcessSignals.Send(id, ProcessSignals.Kill))
                    removed.Add($"process {id} in {node.Namespace}");
            }

            CommandRunner.Run(Ip, ["netns", "delete", node.Namespace]);
            removed.Add($"namespace {node.Namespace} (with its veth pair and nft table)");
        }

        foreach (var node in layout.Nodes)
        {
            // Normally gone with its namespace; left behind if up failed between creating it and moving its peer.
            // The kernel may still be removing it with the namespace, so a failed delete is not an error.
            if (LinkExists(node.HostVeth) && CommandRunner.TryRun(Ip, ["link", "delete", node.HostVeth]).Code == 0)
                removed.Add($"link {node.HostVeth}");
        }

        if (LinkExists(layout.Bridge))
        {
            CommandRunner.Run(Ip, ["link", "delete", layout.Bridge]);
            removed.Add($"bridge {layout.Bridge}");
        }

        return removed;
    }

    /// <summary>The network namespaces of the host.</summary>
    /// <returns>Their names.</returns>
    public static HashSet<string> Namespaces() =>
        [.. CommandRunner.Run(Ip, ["netns", "list"]).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0])];

    /// <summary>True when a link named <paramref name="name"/> exists in the host namespace.</summary>
    /// <param name="name">The link.</param>
    /// <returns>Whether it exists.</returns>
    public static bool LinkExists(string name) => CommandRunner.TryRun(Ip, ["link", "show", "dev", name]).Code == 0;
}
