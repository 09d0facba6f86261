using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node;

namespace Kvorum.Server.Tests.Node.Agreement;

/// <summary>
/// The end of a run: every fault healed, every member running, the log settled (<see cref="SettleAsync"/>), then the
/// oracle (<see cref="VerifyAsync"/>): the members agree with each other, and none lost an acknowledged write.
/// </summary>
internal static class AgreementCheck
{
    /// <summary>
    /// Heals the network, starts every member that is down, and waits until one leader's log is wholly committed and
    /// applied by every member of its member table, at the same revision, twice in a row. Members outside that table
    /// (an addition that was never committed, a removal that was never acknowledged) are stopped for good. Returns
    /// the members that remain.
    /// </summary>
    public static async Task<IReadOnlyList<ChaosCluster.Member>> SettleAsync(ChaosCluster cluster, AgreementNemesis nemesis, TimeSpan timeout, Action<string> log)
    {
        cluster.Network.Heal();
        var deadline = DateTime.UtcNow + timeout;
        ulong stableAt = 0;
        while (DateTime.UtcNow < deadline)
        {
            await nemesis.ReapAsync();
            foreach (var m in cluster.Members)
                cluster.EnsureRunning(m);
            await Task.Delay(200);
            if (cluster.SomeLeader() is not { } leader)
                continue;
            var status = leader.Status;
            if (status.Commit != status.LastIndex || status.Applied != status.Commit)
                continue;
            Member[] table;
            try
            {
                table = await leader.MembersAsync().WaitAsync(TimeSpan.FromSeconds(2));
            }
            catch (Exception e) when (e is EtcdException or TimeoutException)
            {
                continue;
            }
            var inTable = table.Select(m => m.ID).ToHashSet();
            var members = cluster.Members;
            // A table naming a member stopped for good is a stale leader's, which has not yet learned of its removal.
            if (!inTable.SetEquals(members.Where(m => inTable.Contains(m.Id)).Select(m => m.Id)))
                continue;
            var followers = members.Where(m => inTable.Contains(m.Id)).ToList();
            var agreed = followers.All(m => m.Node is { } n && n.Status.Leader == leader.MemberId
                && n.Status.Applied == status.Applied && n.Status.Revision == status.Revision);
            if (!agreed)
            {
                stableAt = 0;
                continue;
            }
            // The log is settled: what is outside the table will never be in it.
            foreach (var m in members.Where(m => !inTable.Contains(m.Id)))
            {
                log($"{m.Name} is not in the final member table; stopped");
                await cluster.StopForGoodAsync(m);
            }
            if (stableAt == status.Applied)
                return followers;
            stableAt = status.Applied;
        }
        throw new TimeoutException($"the cluster did not settle within {timeout}:\n{Describe(cluster)}");
    }

    /// <summary>
    /// The oracle: on every member, the same revision, the same HashKV at it (which covers the kept history), the same
    /// compaction revision and the same member table; no member's loop failed; and every acknowledged put is there.
    /// A put acknowledged at revision r (after the compaction revision) must be what a read of its key at r returns,
    /// value and mod revision; and the newest acknowledged put to a key must be the key's value now, unless a later
    /// revision (a put that was applied but whose answer was lost) overwrote it. No acknowledged put may share a
    /// revision with another. None of these can fail on a correct cluster: values are unique, nothing deletes, and a
    /// revision is only read where it is kept.
    /// </summary>
    public static async Task VerifyAsync(IReadOnlyList<ChaosCluster.Member> members, IReadOnlyCollection<AckedPut> acked, IReadOnlyList<string> failures)
    {
        var errors = new List<string>(failures);
        var nodes = members.Select(m => (m.Name, Node: m.Node!)).ToList();
        errors.AddRange(nodes.Where(n => n.Node.Failed).Select(n => $"{n.Name}: its loop failed"));

        var revisions = nodes.Select(n => (n.Name, n.Node.Status.Revision, n.Node.Status.Applied)).ToList();
        if (revisions.Select(r => (r.Revision, r.Applied)).Distinct().Count() != 1)
            errors.Add("revisions or applied indexes differ: " + string.Join(", ", revisions.Select(r => $"{r.Name} rev {r.Revision} applied {r.Applied}")));
        var revision = revisions.Min(r => r.Revision);

        var hashes = new List<(string Name, HashKVResponse Hash)>();
        foreach (var (name, node) in nodes)
            hashes.Add((name, await node.HashKVAsync(new HashKVRequest { Revision = revision }, CancellationToken.None)));
        if (hashes.Select(h => (h.Hash.Hash, h.Hash.CompactRevision)).Distinct().Count() != 1)
            errors.Add($"HashKV at revision {revision} differs: " + string.Join(", ", hashes.Select(h => $"{h.Name} {h.Hash.Hash} (compacted at {h.Hash.CompactRevision})")));
        var compacted = hashes.Max(h => h.Hash.CompactRevision);

        var tables = new List<string>();
        foreach (var (name, node) in nodes)
            tables.Add(string.Join(' ', (await node.MembersAsync()).OrderBy(m => m.ID).Select(m => $"{m.ID:x}{(m.IsLearner ? "(learner)" : "")}")));
        if (tables.Distinct().Count() != 1)
            errors.Add("member tables differ: " + string.Join(" | ", tables));

        foreach (var shared in acked.GroupBy(a => a.Revision).Where(g => g.Count() > 1))
            errors.Add($"revision {shared.Key} acknowledged for more than one put: {string.Join(", ", shared)}");

        foreach (var (name, node) in nodes)
            await CheckAcknowledgedAsync(name, node, acked, compacted, errors);

        if (errors.Count > 0)
            throw new InvalidOperationException(string.Join('\n', errors.Take(30)) + (errors.Count > 30 ? $"\n... and {errors.Count - 30} more" : ""));
    }

    private static async Task CheckAcknowledgedAsync(string name, KvorumNode node, IReadOnlyCollection<AckedPut> acked, long compacted, List<string> errors)
    {
        foreach (var key in acked.GroupBy(a => a.Key))
        {
            var newest = key.MaxBy(a => a.Revision)!;
            var now = await ReadAsync(node, key.Key, 0);
            if (now is null || now.ModRevision < newest.Revision || (now.ModRevision == newest.Revision && now.Value.ToStringUtf8() != newest.Value))
                errors.Add($"{name}: {key.Key} is {Show(now)}, but {newest.Value} was acknowledged at revision {newest.Revision} and nothing later overwrote it");
            foreach (var put in key.Where(a => a.Revision > compacted))
            {
                var then = await ReadAsync(node, put.Key, put.Revision);
                if (then is null || then.ModRevision != put.Revision || then.Value.ToStringUtf8() != put.Value)
                    errors.Add($"{name}: {put.Key} at revision {put.Revision} is {Show(then)}, but {put.Value} was acknowledged at that revision");
            }
        }
    }

    private static async Task<KeyValue?> ReadAsync(KvorumNode node, string key, long revision)
    {
        var response = await node.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key), Revision = revision, Serializable = true }, CancellationToken.None);
        return response.Kvs.Count == 0 ? null : response.Kvs[0];
    }

    private static string Show(KeyValue? kv) => kv is null ? "absent" : $"{kv.Value.ToStringUtf8()} (mod revision {kv.ModRevision})";

    /// <summary>Every member's status, for a failure's message.</summary>
    public static string Describe(ChaosCluster cluster) =>
        string.Join('\n', cluster.Members.Select(m => m.Node is { } n
            ? $"  {m.Name} {m.Id:x}: {n.Status.Role}{(n.Status.IsLearner ? " (learner)" : "")} term {n.Status.Term} leader {n.Status.Leader:x} "
              + $"commit {n.Status.Commit} applied {n.Status.Applied} last {n.Status.LastIndex} revision {n.Status.Revision}{(n.Failed ? " FAILED" : "")}"
            : $"  {m.Name} {m.Id:x}: down"))
        + "\n  network: " + cluster.Network.Describe();
}
