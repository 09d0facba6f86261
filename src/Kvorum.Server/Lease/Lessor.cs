using Kvorum.Etcd.Errors;
using Kvorum.Server.Node;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Lease;

/// <summary>
/// etcd's lessor: the replicated lease table (id, granted TTL), which every member changes
/// in the same way as it applies grants and revokes, and, on the leader only, the deadline of each lease. Only the
/// <em>primary</em> lessor (the leader's, once <see cref="Promote"/> ran) has deadlines: it renews leases and says which
/// have expired (<see cref="TakeExpired"/>), which the leader then revokes through Raft, so that every member deletes
/// a lease's keys at the same revision. Other members never expire a lease. Which keys a lease holds is the MVCC
/// store's (<see cref="Mvcc.LeaseAttachments"/>).
/// </summary>
/// <remarks>
/// Pure: the time comes from the clock passed in (milliseconds, monotonic), so tests drive it by hand. Owned by the
/// member loop (<see cref="LoopOwner"/>). Deadlines are never persisted: a restart, an installed snapshot and a
/// promotion give each lease its full TTL again, unless a checkpoint recorded less (<c>Lessor.Checkpoints.cs</c>).
/// </remarks>
internal sealed partial class Lessor
{
    /// <summary>etcd's largest TTL, in seconds (<c>MaxLeaseTTL</c>).</summary>
    public const long MaxTtlSeconds = 9_000_000_000;

    /// <summary>With this many leases or more, promotion spreads the deadlines (etcd's threshold).</summary>
    internal const int SpreadThreshold = 1000;

    /// <summary>Expiries per second a promotion leaves at most, once it spreads them (¾ of etcd's revoke rate of 1000/s).</summary>
    internal const int SpreadPerSecond = 750;

    /// <summary>Deadline of a lease no one expires: on a lessor that is not primary.</summary>
    private const long Never = long.MaxValue;

    private readonly Dictionary<long, Entry> _leases = [];

    /// <summary>
    /// Lease ids by deadline, primary only. An item whose priority is no longer its lease's deadline (renewed,
    /// revoked) is stale and skipped when it comes up; <see cref="Compact"/> drops them when they pile up.
    /// </summary>
    private readonly PriorityQueue<long, long> _deadlines = new();

    /// <summary>Expired leases whose revoke was proposed, with the time to propose it again if it is not applied by then.</summary>
    private readonly Dictionary<long, long> _revoking = [];

    private readonly Func<long> _clockMs;
    private readonly LoopOwner _owner;

    /// <summary>Creates an empty table, not primary.</summary>
    /// <param name="minTtlSeconds">The TTL a grant proposed here is raised to (<see cref="Raise"/>, <see cref="MinTtlSeconds(int, int)"/>).</param>
    /// <param name="clockMs">Monotonic milliseconds.</param>
    /// <param name="owner">The loop that owns the table; a test passes none.</param>
    /// <param name="checkpoints">Whether the primary checkpoints the leases no one keeps alive (<see cref="TakeCheckpoints"/>).</param>
    public Lessor(long minTtlSeconds, Func<long> clockMs, LoopOwner? owner = null, bool checkpoints = true)
    {
        ArgumentNullException.ThrowIfNull(clockMs);
        MinTtl = minTtlSeconds;
        CheckpointsEnabled = checkpoints;
        _clockMs = clockMs;
        _owner = owner ?? new LoopOwner();
    }

    /// <summary>The smallest TTL this member proposes a grant with, in seconds.</summary>
    public long MinTtl { get; }

    /// <summary>True on the leader once promoted: it has deadlines, renews and expires.</summary>
    public bool IsPrimary { get; private set; }

    /// <summary>Number of leases.</summary>
    public int Count => _leases.Count;

    /// <summary>
    /// etcd's minimum TTL: 1.5 election timeouts, counted in whole heartbeats as etcd counts them
    /// (⌊3·electionTicks/2⌋ heartbeats), rounded up to whole seconds: 2 s with the default 100 ms and 1000 ms.
    /// </summary>
    public static long MinTtlSeconds(int electionTimeoutMs, int heartbeatIntervalMs)
    {
        var heartbeat = Math.Max(1, heartbeatIntervalMs);
        var electionTicks = Math.Max(2, electionTimeoutMs / heartbeat);
        var minMs = (long)(3 * electionTicks / 2) * heartbeat;
        return (minMs + 999) / 1000;
    }

    /// <summary>
    /// <paramref name="ttl"/> raised to <see cref="MinTtl"/>, as etcd raises a grant's. The proposing member raises it,
    /// before the grant enters the log, so that every member applies the same TTL even when their election timeouts
    /// (and so their minimums) differ. Thread-safe: <see cref="MinTtl"/> never changes.
    /// </summary>
    public long Raise(long ttl) => Math.Max(ttl, MinTtl);

    /// <summary>True when lease <paramref name="id"/> exists.</summary>
    public bool Exists(long id) => _leases.ContainsKey(id);

    /// <summary>
    /// Adds lease <paramref name="id"/> with <paramref name="ttl"/> seconds, in etcd's order of checks. Runs when a
    /// grant is applied, on every member, with the TTL as proposed (<see cref="Raise"/>); only a TTL below one second,
    /// which no member proposes, is raised here, to one second.
    /// </summary>
    /// <returns>The TTL granted.</returns>
    /// <exception cref="EtcdException">Id 0, a TTL over <see cref="MaxTtlSeconds"/>, or a lease that exists.</exception>
    public long Grant(long id, long ttl)
    {
        _owner.AssertOwned();
        if (id == 0)
            throw new EtcdException(EtcdErrors.LeaseNotFound);
        if (ttl > MaxTtlSeconds)
            throw new EtcdException(EtcdErrors.LeaseTtlTooLarge);
        if (_leases.ContainsKey(id))
            throw new EtcdException(EtcdErrors.LeaseExists);
        var entry = new Entry(id, Math.Max(ttl, 1));
        _leases.Add(id, entry);
        if (IsPrimary)
        {
            var now = _clockMs();
            Arm(entry, now + (entry.Ttl * 1000));
            ArmCheckpoint(entry, now);
        }
        return entry.Ttl;
    }

    /// <summary>Removes lease <paramref name="id"/> (its keys are the store's to delete); false when there is none.</summary>
    public bool Revoke(long id)
    {
        _owner.AssertOwned();
        _revoking.Remove(id);
        return _leases.Remove(id);
    }

    /// <summary>
    /// Renews lease <paramref name="id"/> for its whole TTL from now. Primary only: the caller routes renewals to the
    /// leader. A lease that has expired and waits for its revoke is not renewed, as etcd's is not.
    /// </summary>
    /// <param name="id">The lease.</param>
    /// <param name="clearCheckpoint">
    /// True when a checkpoint of the lease was applied or proposed: the renewal may be acknowledged only once a clear
    /// (<see cref="ApplyCheckpoint"/> with 0) proposed after it has been applied, or a new leader would restart the
    /// lease from the checkpoint's shorter remaining time and could expire it early.
    /// </param>
    /// <returns>The granted TTL, or -1 when the lease is unknown or expired.</returns>
    /// <exception cref="InvalidOperationException">Not primary.</exception>
    public long Renew(long id, out bool clearCheckpoint)
    {
        clearCheckpoint = false;
        _owner.AssertOwned();
        if (!IsPrimary)
            throw new InvalidOperationException("only the primary lessor renews leases");
        var now = _clockMs();
        if (!_leases.TryGetValue(id, out var entry) || entry.Deadline <= now)
            return -1;
        Arm(entry, now + (entry.Ttl * 1000));
        ArmCheckpoint(entry, now);
        clearCheckpoint = entry.CheckpointMs > 0 || entry.CheckpointsInFlight > 0;
        return entry.Ttl;
    }

    /// <summary>
    /// Lease <paramref name="id"/>'s granted TTL and the whole seconds left, rounded down (on a lessor that is not
    /// primary, the TTL it would restart with); null when there is no such lease.
    /// </summary>
    public (long GrantedTtl, long Remaining)? TimeToLive(long id)
    {
        _owner.AssertOwned();
        if (!_leases.TryGetValue(id, out var entry))
            return null;
        if (!IsPrimary || entry.Deadline == Never)
            return (entry.Ttl, entry.Ttl);
        return (entry.Ttl, Math.Max(0, (entry.Deadline - _clockMs()) / 1000));
    }

    /// <summary>Every lease id, soonest deadline first (then by id), as etcd's LeaseLeases lists them.</summary>
    public IReadOnlyList<long> Ids()
    {
        _owner.AssertOwned();
        return [.. _leases.Values.OrderBy(e => e.Deadline).ThenBy(e => e.Id).Select(e => e.Id)];
    }

    /// <summary>
    /// Makes this lessor primary (the member became leader and applied its term's first entry): every lease's deadline
    /// becomes now + <paramref name="extendMs"/> (the election timeout) + its remaining TTL, so that a lease a client
    /// kept alive through the old leader does not expire while the client finds the new one. With
    /// <see cref="SpreadThreshold"/> leases or more, deadlines are spread so that at most
    /// <see cref="SpreadPerSecond"/> fall due per second.
    /// </summary>
    public void Promote(long extendMs)
    {
        _owner.AssertOwned();
        IsPrimary = true;
        _revoking.Clear();
        _deadlines.Clear();
        _checkpointsDue.Clear();
        var now = _clockMs();
        foreach (var entry in _leases.Values)
        {
            entry.Deadline = now + extendMs + RemainingMs(entry, now);
            entry.CheckpointsInFlight = 0;
            if (entry.CheckpointMs == 0)
                ArmCheckpoint(entry, now);
        }
        if (_leases.Count >= SpreadThreshold)
        {
            var sorted = _leases.Values.OrderBy(e => e.Deadline).ToArray();
            var first = sorted[0].Deadline;
            for (var i = 0; i < sorted.Length; i++)
                sorted[i].Deadline = Math.Max(sorted[i].Deadline, first + (i * 1000L / SpreadPerSecond));
        }
        foreach (var entry in _leases.Values)
            _deadlines.Enqueue(entry.Id, entry.Deadline);
    }

    /// <summary>Gives up being primary (leadership lost): no lease has a deadline any more.</summary>
    public void Demote()
    {
        _owner.AssertOwned();
        IsPrimary = false;
        _revoking.Clear();
        _deadlines.Clear();
        _checkpointsDue.Clear();
        foreach (var entry in _leases.Values)
        {
            entry.Deadline = Never;
            entry.CheckpointDue = Never;
            entry.CheckpointsInFlight = 0;
        }
    }

    /// <summary>
    /// The expired leases to revoke now, primary only: at most <paramref name="maxBatch"/>, and no more than leave
    /// <paramref name="maxInFlight"/> revokes outstanding. Each is marked as being revoked; if its revoke has not been
    /// applied <paramref name="retryMs"/> from now (the proposal was lost), a later call returns it again.
    /// </summary>
    public IReadOnlyList<long> TakeExpired(int maxBatch, int maxInFlight, long retryMs)
    {
        _owner.AssertOwned();
        if (!IsPrimary)
            return [];
        var now = _clockMs();
        List<long>? retry = null;
        foreach (var (id, at) in _revoking)
        {
            if (at <= now)
                (retry ??= []).Add(id);
        }
        foreach (var id in retry ?? [])
        {
            _revoking.Remove(id);
            if (_leases.TryGetValue(id, out var entry))
                _deadlines.Enqueue(id, entry.Deadline);
        }
        var room = Math.Min(maxBatch, maxInFlight - _revoking.Count);
        var expired = new List<long>();
        while (expired.Count < room && _deadlines.TryPeek(out var id, out var deadline) && deadline <= now)
        {
            _deadlines.Dequeue();
            if (!_leases.TryGetValue(id, out var entry) || entry.Deadline != deadline || _revoking.ContainsKey(id))
                continue; // stale
            _revoking.Add(id, now + retryMs);
            expired.Add(id);
        }
        return expired;
    }

    /// <summary>The table as a snapshot holds it, in id order.</summary>
    public List<LeaseRecord> Capture()
    {
        _owner.AssertOwned();
        return [.. _leases.Values.OrderBy(e => e.Id).Select(e => new LeaseRecord { Id = e.Id, Ttl = e.Ttl, CheckpointMs = e.CheckpointMs })];
    }

    /// <summary>
    /// Replaces the table with a snapshot's. The leases come back with no deadline; a primary lessor (which does not
    /// install snapshots in practice) gives each its full TTL from now. A checkpoint's remaining time counts from now
    /// again, later than it did where it was taken, so a lease restarted from it still never expires early.
    /// </summary>
    public void Restore(IEnumerable<LeaseRecord> records)
    {
        _owner.AssertOwned();
        ArgumentNullException.ThrowIfNull(records);
        _leases.Clear();
        _revoking.Clear();
        _deadlines.Clear();
        _checkpointsDue.Clear();
        var now = _clockMs();
        foreach (var r in records)
        {
            var entry = new Entry(r.Id, r.Ttl) { CheckpointMs = r.CheckpointMs, CheckpointAppliedAt = now };
            _leases[r.Id] = entry;
            if (IsPrimary)
            {
                Arm(entry, now + (entry.Ttl * 1000));
                ArmCheckpoint(entry, now);
            }
        }
    }

    private void Arm(Entry entry, long deadline)
    {
        entry.Deadline = deadline;
        _deadlines.Enqueue(entry.Id, deadline);
        if (_deadlines.Count > (2 * _leases.Count) + 64)
            Compact();
    }

    /// <summary>Rebuilds the deadline queue without its stale items (each renewal leaves one behind).</summary>
    private void Compact()
    {
        _deadlines.Clear();
        foreach (var entry in _leases.Values)
        {
            if (entry.Deadline != Never && !_revoking.ContainsKey(entry.Id))
                _deadlines.Enqueue(entry.Id, entry.Deadline);
        }
    }

    /// <summary>One lease.</summary>
    private sealed class Entry(long id, long ttl)
    {
        public long Id { get; } = id;

        /// <summary>The granted TTL in seconds.</summary>
        public long Ttl { get; } = ttl;

        /// <summary>Monotonic milliseconds at which the lease expires; <see cref="Never"/> unless primary.</summary>
        public long Deadline { get; set; } = Never;

        /// <summary>The remaining time the last applied checkpoint recorded, in milliseconds; 0 for none.</summary>
        public long CheckpointMs { get; set; }

        /// <summary>Monotonic milliseconds, on this member, at which that checkpoint was applied (or restored).</summary>
        public long CheckpointAppliedAt { get; set; }

        /// <summary>Primary only: when to checkpoint the lease if it is not renewed before; <see cref="Never"/> for no time.</summary>
        public long CheckpointDue { get; set; } = Never;

        /// <summary>Primary only: checkpoints proposed and not yet applied (a lost one is counted until demotion).</summary>
        public int CheckpointsInFlight { get; set; }
    }
}
