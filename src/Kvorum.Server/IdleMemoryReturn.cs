namespace Kvorum.Server;

/// <summary>
/// Gives memory back to the system once a burst that needed it is over: when the member has been quiet for a check
/// interval and the runtime holds more than twice what it held at its smallest (plus a slack), one full, compacting
/// collection returns what is free. While such collections find the memory still in use, they are tried less and
/// less often, down to once every <see cref="MaxBackoff"/>, until a client connection closes.
/// </summary>
/// <remarks>
/// <para>Why: a burst of clients that open large answers and never read them keeps those answers (and the pooled
/// buffers they were written to) alive until the clients go; afterwards the memory is garbage, but with nothing
/// allocating the runtime starts no collection, so the process keeps it. Go's runtime (etcd) hands such memory back on
/// its own; .NET's does so only when a collection runs. Nothing cheap tells garbage from memory in use before a
/// collection, hence the retries while the memory is in use.</para>
/// <para>Only when quiet (few bytes allocated since the last check), so that a loaded member is never paused for
/// this. The price: a quiet member whose data has grown to more than twice its smallest footprint runs one full
/// collection every <see cref="MaxBackoff"/>.</para>
/// <para>Timer thread only; the counters and the collection are passed in so tests can drive <see cref="Check"/>.</para>
/// </remarks>
internal sealed class IdleMemoryReturn : IDisposable
{
    /// <summary>How often the member is looked at.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    /// <summary>The longest wait between two collections that found the memory still in use.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);

    /// <summary>Bytes allocated within one interval below which the member counts as quiet.</summary>
    public const long QuietBytes = 32L << 20;

    /// <summary>Committed memory allowed above twice the smallest before a collection is worth its pause.</summary>
    public const long SlackBytes = 128L << 20;

    private readonly Func<long> _allocatedBytes;
    private readonly Func<long> _committedBytes;
    private readonly Action _collect;
    private readonly Timer? _timer;
    private long _lastAllocated;
    private long _smallest;
    private int _intervalsToWait;
    private int _backoffIntervals = 1;
    private bool _closedSinceCheck;

    /// <summary>Creates the check; with <paramref name="start"/>, runs it every <see cref="Interval"/>.</summary>
    public IdleMemoryReturn(bool start = true, Func<long>? allocatedBytes = null, Func<long>? committedBytes = null, Action? collect = null)
    {
        _allocatedBytes = allocatedBytes ?? (static () => GC.GetTotalAllocatedBytes(precise: false));
        _committedBytes = committedBytes ?? (static () => GC.GetGCMemoryInfo().TotalCommittedBytes);
        _collect = collect ?? (static () => GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true));
        _lastAllocated = _allocatedBytes();
        _smallest = long.MaxValue;
        if (start)
            _timer = new Timer(static s => ((IdleMemoryReturn)s!).Check(), this, Interval, Interval);
    }

    /// <summary>Collections this check has started.</summary>
    public int Collections { get; private set; }

    /// <summary>One look, every <see cref="Interval"/>: collects (and returns true) when due.</summary>
    public bool Check()
    {
        var allocated = _allocatedBytes();
        var quiet = allocated - _lastAllocated < QuietBytes;
        _lastAllocated = allocated;
        if (Interlocked.Exchange(ref _closedSinceCheck, false))
            (_intervalsToWait, _backoffIntervals) = (0, 1);
        if (_intervalsToWait > 0)
            _intervalsToWait--;
        // The runtime says 0 until its first collection.
        var committed = _committedBytes();
        if (committed > 0)
            _smallest = Math.Min(_smallest, committed);
        if (!quiet || _intervalsToWait > 0 || committed <= Threshold)
            return false;
        _collect();
        Collections++;
        var after = _committedBytes();
        if (after > 0)
            _smallest = Math.Min(_smallest, after);
        // Still above: what is held is in use. Try again later, each time twice as late.
        var maxIntervals = (int)(MaxBackoff / Interval);
        _backoffIntervals = after > Threshold ? Math.Min(2 * _backoffIntervals, maxIntervals) : 1;
        _intervalsToWait = after > Threshold ? _backoffIntervals : 0;
        _lastAllocated = _allocatedBytes();
        return true;
    }

    /// <summary>
    /// A client connection has closed: what it held may be garbage now, so the next quiet look may collect again at
    /// once, whatever the retries had come to. Any thread.
    /// </summary>
    public void ConnectionClosed() => Volatile.Write(ref _closedSinceCheck, true);

    private long Threshold => _smallest == long.MaxValue ? long.MaxValue : 2 * _smallest + SlackBytes;

    public void Dispose() => _timer?.Dispose();
}
