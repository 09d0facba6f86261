using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Lease;

/// <summary>
/// Lease checkpoints (etcd's <c>LeaseCheckpoint</c>, reshaped): renewals are not replicated, so a new leader does not
/// know when a lease was last kept alive and would give it its whole TTL again, and a lease abandoned long before a
/// failover would live up to a TTL longer than its bound. The primary therefore records, through Raft, how long each
/// lease that no one has renewed for half its TTL has left. Every member keeps that figure with the time it applied
/// it, and a new leader restarts the lease from what is left of it.
/// </summary>
/// <remarks>
/// <para>Why this never expires a lease early: a checkpoint taken at time T says "deadline − T" is left; it is applied
/// at or after T on every member, so counting down from the apply time ends at or after the deadline (monotonic clocks
/// run at the same rate; a member that applies it again on restart, or restores it from a snapshot, counts from later
/// still). A renewal after a checkpoint makes it wrong, so such a renewal is acknowledged only after a clear, proposed
/// after it (and so applied after every checkpoint proposed before it), has been applied
/// (<see cref="Renew(long, out bool)"/>).</para>
/// <para>Why half the TTL: clients renew every third of it (etcd's client does), so a lease that is being kept alive
/// is never checkpointed and its renewals never wait for a clear; only abandoned (or badly late) leases cost one
/// proposal each.</para>
/// </remarks>
internal sealed partial class Lessor
{
    /// <summary>Lease ids by checkpoint due time, primary only; stale items (renewed since) are skipped.</summary>
    private readonly PriorityQueue<long, long> _checkpointsDue = new();

    /// <summary>True when the primary checkpoints leases (on by default; the serve option turns it off).</summary>
    public bool CheckpointsEnabled { get; }

    /// <summary>
    /// Records a checkpoint as it is applied, on every member: lease <paramref name="id"/> had
    /// <paramref name="remainingMs"/> left when the leader proposed it, or, with 0, the lease was renewed since and has
    /// its whole TTL. An unknown lease (revoked meanwhile) is ignored.
    /// </summary>
    public void ApplyCheckpoint(long id, long remainingMs)
    {
        _owner.AssertOwned();
        if (!_leases.TryGetValue(id, out var entry))
            return;
        if (remainingMs > 0)
        {
            entry.CheckpointMs = remainingMs;
            entry.CheckpointAppliedAt = _clockMs();
            if (entry.CheckpointsInFlight > 0)
                entry.CheckpointsInFlight--;
        }
        else
        {
            entry.CheckpointMs = 0;
        }
    }

    /// <summary>
    /// The checkpoints to propose now, primary only, at most <paramref name="maxBatch"/>: each lease not renewed for
    /// half its TTL, with the milliseconds it has left. Each is counted as in flight; if it is not applied within
    /// <paramref name="retryMs"/>, the lease comes up again.
    /// </summary>
    public IReadOnlyList<(long Id, long RemainingMs)> TakeCheckpoints(int maxBatch, long retryMs)
    {
        _owner.AssertOwned();
        if (!IsPrimary || !CheckpointsEnabled)
            return [];
        var now = _clockMs();
        var due = new List<(long, long)>();
        while (due.Count < maxBatch && _checkpointsDue.TryPeek(out var id, out var at) && at <= now)
        {
            _checkpointsDue.Dequeue();
            if (!_leases.TryGetValue(id, out var entry) || entry.CheckpointDue != at)
                continue; // stale: revoked, or renewed since
            entry.CheckpointDue = Never;
            if (entry.Deadline <= now || _revoking.ContainsKey(id))
                continue; // expiring: its revoke is what comes next
            if (entry.CheckpointMs > 0 && entry.CheckpointsInFlight == 0)
                continue; // checkpointed, and not renewed since
            entry.CheckpointsInFlight++;
            Schedule(entry, now + retryMs);
            due.Add((id, entry.Deadline - now));
        }
        return due;
    }

    /// <summary>
    /// How long <paramref name="entry"/> has left for a new primary: what its checkpoint left, counted from when it was
    /// applied here, or its whole TTL without one.
    /// </summary>
    private static long RemainingMs(Entry entry, long now) =>
        entry.CheckpointMs > 0 ? Math.Max(0, entry.CheckpointAppliedAt + entry.CheckpointMs - now) : entry.Ttl * 1000;

    /// <summary>Primary: the lease was renewed (or granted, or promoted) at <paramref name="now"/>; checkpoint it after half its TTL.</summary>
    private void ArmCheckpoint(Entry entry, long now)
    {
        if (CheckpointsEnabled)
            Schedule(entry, now + (entry.Ttl * 500));
    }

    private void Schedule(Entry entry, long at)
    {
        entry.CheckpointDue = at;
        _checkpointsDue.Enqueue(entry.Id, at);
        if (_checkpointsDue.Count > (2 * _leases.Count) + 64)
        {
            _checkpointsDue.Clear();
            foreach (var e in _leases.Values)
            {
                if (e.CheckpointDue != Never)
                    _checkpointsDue.Enqueue(e.Id, e.CheckpointDue);
            }
        }
    }

    /// <summary>The proposal that records <paramref name="checkpoints"/> on every member.</summary>
    public static LeaseCheckpoints ToProposal(IEnumerable<(long Id, long RemainingMs)> checkpoints)
    {
        var proposal = new LeaseCheckpoints();
        foreach (var (id, remaining) in checkpoints)
        {
            proposal.Ids.Add(id);
            proposal.RemainingMs.Add(remaining);
        }
        return proposal;
    }
}
