using System.Text;

namespace Kvorum.Raft.Tests.Simulation;

internal sealed partial class SimCluster
{
    // ---- Liveness ----

    /// <summary>
    /// Heals every fault and restarts every crashed server, then requires a leader and a new write
    /// committed and applied everywhere within a bounded time (the liveness half of the check).
    /// </summary>
    public void HealAndCheckLiveness(long maxUnits = 20_000)
    {
        Heal();
        Network.DropRate = 0;
        Network.DuplicateRate = 0;
        Network.LongDelay = 0;
        foreach (var n in Nodes.Values)
        {
            n.Paused = false;
            Restart(n.Id);
        }
        var deadline = Now + maxUnits;
        long op = -1, proposedAt = 0;
        while (Now < deadline)
        {
            // A write may be lost to a leader change without a later entry taking its slot; retry.
            if (op < 0 || FailedOps.Contains(op) || (!Acked.ContainsKey(op) && Now - proposedAt > 1000))
            {
                var leader = Leader();
                if (leader != 0)
                {
                    op = Propose(leader);
                    proposedAt = Now;
                }
            }
            if (op >= 0 && Acked.TryGetValue(op, out var ack))
            {
                var members = Nodes[Leader() == 0 ? Nodes.Keys.First() : Leader()].Raft!.Status.Config.All.ToHashSet();
                if (Nodes.Values.Where(n => members.Contains(n.Id)).All(n => n.AppliedIndex >= ack.Index))
                    return;
            }
            Step();
        }
        throw new InvariantViolationException($"liveness: no write committed everywhere within {maxUnits} units after healing\n{Describe()}");
    }

    public string Describe()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"seed {Seed}, time {Now}; replay with: {_options.Replay?.Invoke(Seed) ?? "rerun this test (its seed is fixed)"}");
        foreach (var n in Nodes.Values)
        {
            if (n.Raft is null)
            {
                sb.AppendLine($"  node {n.Id}: crashed; persisted {n.Storage.HardState} last {n.Storage.LastIndex}");
                continue;
            }
            var s = n.Raft.Status;
            var durable = DurableOf(n);
            var pending = n.Storage is SimStorage disk ? disk.PendingCount : 0;
            sb.AppendLine($"  node {n.Id}: {s.Role} term {s.Term} lead {s.Lead} commit {s.Commit} applied {s.Applied} last {s.LastIndex} first {s.FirstIndex} {s.Config}"
                + $"; durable {durable.HardState} last {durable.LastIndex}, {pending} writes pending");
            foreach (var (peer, p) in s.Progress)
                sb.AppendLine($"    progress {peer}: {p}");
        }
        if (Network.Blocked.Count > 0)
            sb.AppendLine($"  blocked: {string.Join(' ', Network.Blocked.Select(b => $"{b.From}->{b.To}"))}");
        return sb.ToString();
    }
}
