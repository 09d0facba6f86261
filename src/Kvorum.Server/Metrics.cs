using System.Globalization;
using System.Text;
using Kvorum.Server.Node;

namespace Kvorum.Server;

/// <summary>Prometheus text exposition of the member's state (a first set; more come with the metrics work).</summary>
internal static class Metrics
{
    public static string Render(KvorumNode node)
    {
        var s = node.Status;
        var sb = new StringBuilder();
        void Gauge(string name, string help, double value)
        {
            sb.Append("# HELP ").Append(name).Append(' ').AppendLine(help);
            sb.Append("# TYPE ").Append(name).AppendLine(" gauge");
            sb.Append(name).Append(' ').AppendLine(value.ToString(CultureInfo.InvariantCulture));
        }
        Gauge("kvorum_raft_term", "Current Raft term.", s.Term);
        Gauge("kvorum_raft_is_leader", "1 if this member is the leader.", s.Role == Raft.StateRole.Leader ? 1 : 0);
        Gauge("kvorum_raft_has_leader", "1 if a leader is known.", s.Leader != 0 ? 1 : 0);
        Gauge("kvorum_raft_commit_index", "Highest committed log index known here.", s.Commit);
        Gauge("kvorum_raft_applied_index", "Highest log index applied here.", s.Applied);
        Gauge("kvorum_mvcc_revision", "Current MVCC revision.", s.Revision);
        return sb.ToString();
    }
}
