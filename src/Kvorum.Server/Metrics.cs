using System.Globalization;
using System.Text;
using Kvorum.Server.Node;

namespace Kvorum.Server;

/// <summary>Prometheus text exposition (format 0.0.4) of a member's state, counters and latencies.</summary>
internal static class Metrics
{
    public static string Render(KvorumNode node)
    {
        var s = node.Status;
        var m = node.Metrics;
        var sb = new StringBuilder();
        void Header(string name, string help, string type)
        {
            sb.Append("# HELP ").Append(name).Append(' ').AppendLine(help);
            sb.Append("# TYPE ").Append(name).Append(' ').AppendLine(type);
        }
        void Gauge(string name, string help, double value)
        {
            Header(name, help, "gauge");
            sb.Append(name).Append(' ').AppendLine(value.ToString(CultureInfo.InvariantCulture));
        }
        void Counter(string name, string help, long value)
        {
            Header(name, help, "counter");
            sb.Append(name).Append(' ').AppendLine(value.ToString(CultureInfo.InvariantCulture));
        }
        void Histogram(string name, string help, LatencyHistogram h)
        {
            Header(name, help, "histogram");
            var (cumulative, count, sum) = h.Read();
            for (var i = 0; i < LatencyHistogram.Bounds.Length; i++)
            {
                sb.Append(name).Append("_bucket{le=\"").Append(LatencyHistogram.Bounds[i].ToString(CultureInfo.InvariantCulture))
                    .Append("\"} ").AppendLine(cumulative[i].ToString(CultureInfo.InvariantCulture));
            }
            sb.Append(name).Append("_bucket{le=\"+Inf\"} ").AppendLine(count.ToString(CultureInfo.InvariantCulture));
            sb.Append(name).Append("_sum ").AppendLine(sum.ToString(CultureInfo.InvariantCulture));
            sb.Append(name).Append("_count ").AppendLine(count.ToString(CultureInfo.InvariantCulture));
        }
        Gauge("kvorum_raft_term", "Current Raft term.", s.Term);
        Gauge("kvorum_raft_is_leader", "1 if this member is the leader.", s.Role == Raft.StateRole.Leader ? 1 : 0);
        Gauge("kvorum_raft_has_leader", "1 if a leader is known.", s.Leader != 0 ? 1 : 0);
        Gauge("kvorum_raft_commit_index", "Highest committed log index known here.", s.Commit);
        Gauge("kvorum_raft_applied_index", "Highest log index applied here.", s.Applied);
        Gauge("kvorum_mvcc_revision", "Current MVCC revision.", s.Revision);
        Gauge("kvorum_mvcc_store_bytes", "Size of the store as --quota-backend-bytes measures it: keys and values of every version kept.", node.StoreBytes);
        Gauge("kvorum_alarm_nospace", "1 while this member's NOSPACE alarm is raised (writes refused).", node.NoSpaceAlarm ? 1 : 0);
        Counter("kvorum_raft_leader_changes_total", "Leaders seen by this member.", Interlocked.Read(ref m.LeaderChanges));
        Counter("kvorum_proposals_submitted_total", "Client writes proposed through this member.", Interlocked.Read(ref m.ProposalsSubmitted));
        Counter("kvorum_proposals_failed_total", "Client writes that failed.", Interlocked.Read(ref m.ProposalsFailed));
        Counter("kvorum_entries_applied_total", "Committed entries applied.", Interlocked.Read(ref m.EntriesApplied));
        Counter("kvorum_peer_send_failures_total", "Messages the peer transport could not deliver.", Interlocked.Read(ref m.PeerSendFailures));
        Counter("kvorum_read_index_requests_total", "ReadIndex requests made, each for a batch of linearizable reads.", Interlocked.Read(ref m.ReadIndexRequests));
        Counter("kvorum_linearizable_reads_total", "Linearizable reads answered after their ReadIndex was confirmed.", Interlocked.Read(ref m.LinearizableReads));
        void ByMessageType(string name, string help, long[] counts)
        {
            Header(name, help, "counter");
            foreach (var type in Enum.GetValues<Raft.MessageType>())
            {
                sb.Append(name).Append("{type=\"").Append(type).Append("\"} ")
                    .AppendLine(Interlocked.Read(ref counts[(int)type & 31]).ToString(CultureInfo.InvariantCulture));
            }
        }
        ByMessageType("kvorum_peer_messages_sent_total", "Raft messages handed to the peer transport, by type.", m.MessagesSent);
        ByMessageType("kvorum_peer_messages_received_total", "Raft messages received from peers, by type.", m.MessagesReceived);
        Counter("kvorum_snapshots_total", "Snapshots taken.", Interlocked.Read(ref m.SnapshotsTaken));
        Counter("kvorum_snapshots_relabelled_total", "Snapshots sent with the metadata of a newer snapshot than the one chosen, made current meanwhile.", Interlocked.Read(ref m.SnapshotsRelabelled));
        Counter("kvorum_snapshots_refused_total", "Snapshots from a leader refused because the state inside is not the one their metadata names.", Interlocked.Read(ref m.SnapshotsRefused));
        Counter("kvorum_peer_messages_from_strangers_total", "Raft messages refused because their sender is not a member of the cluster.", Interlocked.Read(ref m.MessagesFromStrangers));
        Counter("kvorum_peer_messages_from_foreign_leader_total", "Leader messages dropped because another member than the known leader of their term sent them.", Interlocked.Read(ref m.ForeignLeaderMessages));
        Counter("kvorum_gc_collections_gen0_total", "Garbage collections of generation 0 (and older).", GC.CollectionCount(0));
        Counter("kvorum_gc_staggered_collections_total", "Generation 0 collections a follower started itself to keep apart from the other followers.", Interlocked.Read(ref m.StaggeredCollections));
        Counter("kvorum_gc_leader_budget_collections_total", "Generation 0 collections a leader started itself once it had allocated its budget, to keep its pauses short.", Interlocked.Read(ref m.LeaderBudgetCollections));
        Counter("kvorum_gc_collections_gen2_total", "Full (generation 2) garbage collections.", GC.CollectionCount(2));
        Gauge("kvorum_gc_pause_seconds_total", "Time the runtime paused every thread for garbage collection.", GC.GetTotalPauseDuration().TotalSeconds);
        Counter("kvorum_gc_allocated_bytes_total", "Bytes allocated on the managed heap since start.", GC.GetTotalAllocatedBytes());
        Gauge("kvorum_gc_heap_bytes", "Managed heap size after the last collection.", GC.GetGCMemoryInfo().HeapSizeBytes);
        Histogram("kvorum_wal_fsync_duration_seconds", "Time to make a Ready durable: WAL write and fsync (a write that needs no fsync, such as a commit index alone, is not counted).", m.Fsync);
        Histogram("kvorum_apply_duration_seconds", "Time to apply one Ready's committed entries.", m.Apply);
        return sb.ToString();
    }
}
