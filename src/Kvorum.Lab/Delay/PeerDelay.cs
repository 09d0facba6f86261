using System.Globalization;
using System.Net;
using System.Text;
using Kvorum.Lab.Host;
using Kvorum.Lab.Topology;

namespace Kvorum.Lab.Delay;

/// <summary>
/// A delay on every message between members, which the scenario can change while the lab runs: each member's
/// connections to another member's peer port are redirected (nft <c>dnat</c> in the member's namespace, table
/// <c>ip kvorum_delay</c>) to a <see cref="DelayedLink"/> in this process. Set up before the members start, because
/// a redirect applies only to connections opened after it; it lasts as long as this object, so a lab that uses it
/// lives only as long as the scenario that made it.
/// </summary>
/// <remarks>
/// The member receiving a relayed connection sees it come from the host's address, not the sender's, so the lab's
/// faults, which filter on addresses, do not act on relayed links; the scenarios that use a delay use no faults.
/// </remarks>
internal sealed class PeerDelay : IDisposable
{
    private readonly List<DelayedLink> _links = [];
    private long _ticks;

    /// <summary>The delay each chunk of bytes is held for now; 0 at first.</summary>
    public TimeSpan Current
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _ticks));
        set => Interlocked.Exchange(ref _ticks, value.Ticks);
    }

    /// <summary>
    /// Starts a relay for every ordered pair of members and redirects each member's peer connections to them.
    /// Called by <see cref="LabControl.UpAsync"/> once the namespaces exist and before any member starts.
    /// </summary>
    /// <param name="layout">The lab.</param>
    public void Route(LabLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        foreach (var from in layout.Nodes)
        {
            var script = new StringBuilder();
            script.AppendLine("table ip kvorum_delay {");
            script.AppendLine("\tchain output {");
            script.AppendLine("\t\ttype nat hook output priority -100; policy accept;");
            foreach (var to in layout.Nodes.Where(n => n.Number != from.Number))
            {
                var link = new DelayedLink(layout.HostAddress, new IPEndPoint(to.Address, LabLayout.PeerPort), this);
                _links.Add(link);
                script.AppendLine(CultureInfo.InvariantCulture, $"\t\tip daddr {to.Address} tcp dport {LabLayout.PeerPort} dnat to {layout.HostAddress}:{link.Port}");
            }

            script.AppendLine("\t}");
            script.AppendLine("}");
            CommandRunner.Run("ip", ["netns", "exec", from.Namespace, "nft", "-f", "-"], script.ToString());
        }
    }

    /// <summary>Stops every relay; the members' peer links break.</summary>
    public void Dispose()
    {
        foreach (var link in _links)
            link.Dispose();
        _links.Clear();
    }
}
