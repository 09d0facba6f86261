using System.Text;
using Kvorum.Lab.Topology;

namespace Kvorum.Lab.Faults;

/// <summary>
/// Renders the nftables table <c>inet kvorum_lab</c> that realises a <see cref="FaultSet"/> inside one node's
/// namespace. The script replaces the table atomically (<c>nft -f</c> runs it as one transaction), so it is the
/// whole truth for that node after every change. Only the sender's namespace holds a rule for a cut direction.
/// </summary>
internal static class FirewallScript
{
    /// <summary>The table every lab namespace gets.</summary>
    public const string Table = "kvorum_lab";

    /// <summary>The nft script for node <paramref name="node"/>.</summary>
    /// <param name="layout">The lab.</param>
    /// <param name="faults">The faults in force.</param>
    /// <param name="node">The node whose namespace runs the script.</param>
    /// <returns>The script text for <c>nft -f -</c>.</returns>
    public static string Render(LabLayout layout, FaultSet faults, int node)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(faults);
        var output = new List<string>();
        var input = new List<string>();
        foreach (var peer in layout.Nodes)
        {
            if (peer.Number == node)
                continue;
            var outgoing = faults.Blocks(node, peer.Number);
            var incoming = faults.Blocks(peer.Number, node);
            if (outgoing && incoming)
            {
                output.Add($"ip daddr {peer.Address} drop");
                input.Add($"ip saddr {peer.Address} drop");
            }
            else if (outgoing)
            {
                // One way: every packet of a connection this node opened to the peer is lost, while the peer's
                // own connections to this node still work (their replies must pass, or TCP could not carry the
                // peer's messages at all). At the message level: ours to the peer are lost, the peer's arrive.
                output.Add($"ip daddr {peer.Address} ct direction original drop");
                input.Add($"ip saddr {peer.Address} ct direction reply drop");
            }
        }

        var loss = faults.LossPercent(node);
        if (loss > 0)
        {
            // numgen yields 0..99, so "< 100" is out of nft's range: total loss is a plain drop.
            var random = loss >= 100 ? "" : $"numgen random mod 100 < {loss} ";
            output.Add($"oifname \"{LabLayout.NodeInterface}\" {random}drop");
            input.Add($"iifname \"{LabLayout.NodeInterface}\" {random}drop");
        }

        var script = new StringBuilder();
        script.Append("table inet ").Append(Table).Append('\n');
        script.Append("delete table inet ").Append(Table).Append('\n');
        script.Append("table inet ").Append(Table).Append(" {\n");
        AppendChain(script, "output", output);
        AppendChain(script, "input", input);
        script.Append("}\n");
        return script.ToString();
    }

    private static void AppendChain(StringBuilder script, string hook, List<string> rules)
    {
        script.Append("  chain ").Append(hook).Append(" {\n");
        script.Append("    type filter hook ").Append(hook).Append(" priority 0; policy accept;\n");
        // Keeps connection tracking on in the namespace from `up` on, so every connection is tracked from its
        // first packet. Otherwise tracking would start with the first one-way cut and pick up connections
        // already open mid-stream, taking whichever side's packet came first as the "original" direction.
        script.Append("    ct state new,established,related counter\n");
        foreach (var rule in rules)
            script.Append("    ").Append(rule).Append('\n');
        script.Append("  }\n");
    }
}
