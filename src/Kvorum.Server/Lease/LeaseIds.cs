namespace Kvorum.Server.Lease;

/// <summary>
/// Picks the id of a lease granted with ID 0, on the member that receives the grant, before it is proposed: positive
/// and non-zero, and unique without asking the table. The high bits come from the member id, so two members pick the
/// same one only if their ids share their low 15 bits (the grant then fails at apply with "lease already exists");
/// the rest is a counter that starts from the wall clock, so a restarted member does not reuse the ids it gave before.
/// The same shape as etcd's request id generator. Thread-safe.
/// </summary>
internal sealed class LeaseIds
{
    private const int CounterBits = 48;
    private const long CounterMask = (1L << CounterBits) - 1;

    private readonly long _prefix;
    private long _counter;

    /// <param name="memberId">This member's id; its low 15 bits become the id's high bits (the sign bit stays 0).</param>
    /// <param name="unixMilliseconds">The wall clock now.</param>
    public LeaseIds(ulong memberId, long unixMilliseconds)
    {
        _prefix = (long)(memberId & 0x7fff) << CounterBits;
        // Milliseconds shifted left by 8: up to 256 ids a millisecond before a restart could meet an id given before it.
        _counter = (unixMilliseconds << 8) & CounterMask;
    }

    /// <summary>The next id.</summary>
    public long Next()
    {
        while (true)
        {
            var id = _prefix | (Interlocked.Increment(ref _counter) & CounterMask);
            if (id != 0)
                return id;
        }
    }
}
