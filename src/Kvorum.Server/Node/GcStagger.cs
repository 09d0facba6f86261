namespace Kvorum.Server.Node;

/// <summary>
/// Keeps the followers' garbage collections apart: a follower starts a gen0 collection itself each time its
/// applied index passes a point of a grid of <see cref="EntriesPerPeriod"/> entries, shifted by its rank among
/// the followers.
/// </summary>
/// <remarks>
/// <para>Why: followers receive the same entries and apply them the same way, so they allocate in lockstep, and the
/// runtime, which starts a gen0 collection once a budget of allocation has been spent, paused both at nearly the
/// same moments (measured in docs/mvcc.md). A leader of three needs one follower's
/// acknowledgement to commit: while both pause, nothing commits, and every client waits. A collection started
/// here resets the runtime's count, so while the period is shorter than the runtime's own budget the runtime
/// does not start one itself, and the shifts keep the followers apart. The grid is in log indexes, which all
/// members share, rather than in bytes allocated, which drift apart between members: followers started a third of
/// a period apart in bytes soon paused together again.</para>
/// <para>A leader does not stagger: its pauses stall commits whatever the followers do. It has a budget of its own
/// (<see cref="LeaderGcBudget"/>), counted in bytes, for shorter pauses. When entries are large the runtime's budget
/// runs out first and this does nothing.</para>
/// <para>Loop thread only; the collection is passed in so tests can drive it.</para>
/// </remarks>
internal sealed class GcStagger
{
    private readonly Action _collect;

    // The grid slot of the last call; -1 before the first.
    private long _slot = -1;

    /// <summary>Creates a stagger with a period of <paramref name="entriesPerPeriod"/> applied entries.</summary>
    public GcStagger(int entriesPerPeriod, Action? collect = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(entriesPerPeriod);
        EntriesPerPeriod = entriesPerPeriod;
        _collect = collect ?? (() => GC.Collect(0, GCCollectionMode.Forced, blocking: true));
    }

    /// <summary>Applied entries between two collections.</summary>
    public int EntriesPerPeriod { get; }

    /// <summary>
    /// The member's shift within the period, in [0, 1): its rank among the members other than
    /// <paramref name="leader"/> (sorted by id) over their number, so that the followers spread evenly.
    /// 0 if it is not among them.
    /// </summary>
    public static double PhaseOf(ulong self, IEnumerable<ulong> members, ulong leader)
    {
        var followers = members.Where(m => m != leader).Distinct().Order().ToList();
        var rank = followers.IndexOf(self);
        return rank < 0 ? 0 : (double)rank / followers.Count;
    }

    /// <summary>
    /// Called once per loop turn: a follower whose applied index has entered a new slot of the grid since the
    /// last call starts a collection (and true is returned). The grid's slots begin at indexes
    /// <c>(k + phase) × EntriesPerPeriod</c>.
    /// </summary>
    public bool Tick(ulong applied, bool isLeader, double phase)
    {
        var shift = (long)(phase * EntriesPerPeriod);
        var slot = ((long)Math.Min(applied, long.MaxValue / 2) + EntriesPerPeriod - shift) / EntriesPerPeriod;
        var entered = _slot >= 0 && slot != _slot;
        _slot = slot;
        if (!entered || isLeader)
            return false;
        _collect();
        return true;
    }
}
