namespace Kvorum.Server.Node;

/// <summary>
/// A smaller young-generation budget for the leader: once <see cref="Bytes"/> have been allocated since its last
/// gen0 collection (of any origin), the loop starts one itself.
/// </summary>
/// <remarks>
/// <para>Why: a leader allocates more than a follower per put (the client's request and response on top of the
/// entry), and under the runtime's own budget each of its gen0 collections promoted the store's new versions of a
/// long interval, in one long pause. Nothing commits while the leader pauses, so these pauses made the put p99. A
/// smaller budget makes the leader collect more often, in shorter pauses, and the p99 falls with more puts served
/// (measured in docs/mvcc.md). The runtime reads its own budget (<c>DOTNET_GCgen0size</c>) only from the
/// environment, not from runtimeconfig.json, hence this.</para>
/// <para>Followers are left to <see cref="GcStagger"/>. Loop thread only; the counters and the collection are passed
/// in so tests can drive them.</para>
/// </remarks>
internal sealed class LeaderGcBudget
{
    private readonly Func<long> _allocatedBytes;
    private readonly Func<int> _gen0Collections;
    private readonly Action _collect;

    // Allocated bytes at the last gen0 collection seen, and that collection's number; -1 when not counting.
    private long _baseline;
    private int _seen = -1;

    /// <summary>Creates a budget of <paramref name="bytes"/> allocated bytes between gen0 collections.</summary>
    public LeaderGcBudget(long bytes, Func<long>? allocatedBytes = null, Func<int>? gen0Collections = null, Action? collect = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        Bytes = bytes;
        _allocatedBytes = allocatedBytes ?? (() => GC.GetTotalAllocatedBytes(precise: false));
        _gen0Collections = gen0Collections ?? (() => GC.CollectionCount(0));
        _collect = collect ?? (() => GC.Collect(0, GCCollectionMode.Forced, blocking: true));
    }

    /// <summary>Bytes allocated between two gen0 collections, at most.</summary>
    public long Bytes { get; }

    /// <summary>
    /// Called once per loop turn: a leader that has allocated <see cref="Bytes"/> since the last gen0 collection
    /// starts one (and true is returned). A member counts from the first turn it leads.
    /// </summary>
    public bool Tick(bool isLeader)
    {
        if (!isLeader)
        {
            _seen = -1;
            return false;
        }
        var collections = _gen0Collections();
        var allocated = _allocatedBytes();
        if (collections != _seen)
        {
            // First turn as leader, or the runtime (or anyone) collected since: count from here.
            _seen = collections;
            _baseline = allocated;
            return false;
        }
        if (allocated - _baseline < Bytes)
            return false;
        _collect();
        _seen = _gen0Collections();
        _baseline = _allocatedBytes();
        return true;
    }
}
