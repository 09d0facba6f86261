namespace Kvorum.Server;

/// <summary>
/// Gives memory back to the system once a burst that needed it is over. Every <see cref="Interval"/>, on a quiet
/// member, one full, compacting collection when the runtime has grown by more than <see cref="SlackBytes"/> since the
/// last such collection, or more than <see cref="SlackBytes"/> of large answers have been given back to the
/// member's budget of unread answers since then, or a client connection has closed since then and the runtime holds
/// more than <see cref="SlackBytes"/> above the smallest it ever held. Collections that a closed connection started and
/// that freed little are tried less and less often, down to once every <see cref="MaxBackoff"/>.
/// </summary>
/// <remarks>
/// <para>Why: a burst of clients that open large answers and never read them keeps those answers (and the buffers
/// they were written to) alive until the clients go; afterwards the memory is garbage, but with nothing allocating the
/// runtime starts no collection, so the process keeps it. Go's runtime (etcd) hands such memory back on its own;
/// .NET's does so only when a collection runs.</para>
/// <para>Two signals, because nothing cheap tells garbage from memory in use before a collection. Growth since the
/// last collection: garbage may have been made since; a collection that finds it in use makes its result the new
/// mark, so a member whose data grows pays one collection per <see cref="SlackBytes"/> of growth. A closed connection:
/// what it held (answers it never read) may be garbage now, without any growth since the last collection, which may
/// have run while the connection still held it. These are retried twice as late each time they free less than
/// <see cref="SlackBytes"/>, so that a large quiet member whose clients come and go is not collected every interval.
/// A first version collected only above twice the smallest footprint plus 128 MiB: after 40 unread 8 MiB answers
/// the member held 328 MiB against a mark of 343 MiB, and never collected (docs/benchmarks.md).</para>
/// <para>Answers given back: the one signal that says how much became garbage. A closed connection alone does not, and
/// its back-off, built up by collections that ran while the answers were still held, once let a member keep 300 MiB
/// of dropped answers for more than 30 s after their readers had gone; so this signal is not backed off.</para>
/// <para>Only when quiet (few bytes allocated since the last check), so that a loaded member is never paused for
/// this.</para>
/// <para>Timer thread only; the counters and the collection are passed in so tests can drive <see cref="Check"/>.</para>
/// </remarks>
internal sealed class IdleMemoryReturn : IDisposable
{
    /// <summary>How often the member is looked at.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    /// <summary>The longest wait between two collections, started by closed connections, that freed little.</summary>
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);

    /// <summary>Bytes allocated within one interval below which the member counts as quiet.</summary>
    public const long QuietBytes = 32L << 20;

    /// <summary>
    /// Committed memory above the mark before a collection is worth its pause, and what a collection must free to
    /// have been worth it.
    /// </summary>
    public const long SlackBytes = 64L << 20;

    private readonly Func<long> _allocatedBytes;
    private readonly Func<long> _committedBytes;
    private readonly Action _collect;
    private readonly Func<long> _answersReleasedBytes;
    private readonly Timer? _timer;
    private long _lastAllocated;
    private long _smallest = long.MaxValue;
    private long _afterLastCollection = long.MaxValue;
    private int _intervalsToWait;
    private int _backoffIntervals = 1;
    private bool _closedSinceCollection;
    private long _answersReleasedAtCollection;

    /// <summary>Creates the check; with <paramref name="start"/>, runs it every <see cref="Interval"/>.</summary>
    /// <param name="start">Run the check on a timer.</param>
    /// <param name="allocatedBytes">Bytes allocated since the start (the runtime's count by default).</param>
    /// <param name="committedBytes">Memory the runtime holds (its committed bytes by default).</param>
    /// <param name="collect">The collection (a full, aggressive one by default).</param>
    /// <param name="answersReleasedBytes">Bytes of large answers given back since the start (<see cref="Http2.UnreadAnswerBudget.Released"/>); none by default.</param>
    public IdleMemoryReturn(bool start = true, Func<long>? allocatedBytes = null, Func<long>? committedBytes = null, Action? collect = null, Func<long>? answersReleasedBytes = null)
    {
        _answersReleasedBytes = answersReleasedBytes ?? (static () => 0);
        _allocatedBytes = allocatedBytes ?? (static () => GC.GetTotalAllocatedBytes(precise: false));
        _committedBytes = committedBytes ?? (static () => GC.GetGCMemoryInfo().TotalCommittedBytes);
        // Aggressive: also decommits the free regions at once, rather than keeping them for later allocations.
        _collect = collect ?? (static () => GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true));
        _lastAllocated = _allocatedBytes();
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
        if (_intervalsToWait > 0)
            _intervalsToWait--;
        // The runtime says 0 until its first collection.
        var committed = _committedBytes();
        if (committed <= 0)
            return false;
        _smallest = Math.Min(_smallest, committed);
        var mark = _afterLastCollection == long.MaxValue ? _smallest : _afterLastCollection;
        var grown = committed - mark > SlackBytes;
        var released = Volatile.Read(ref _closedSinceCollection) && _intervalsToWait == 0 && committed - _smallest > SlackBytes;
        var answersReleased = _answersReleasedBytes();
        var answersGone = answersReleased - _answersReleasedAtCollection > SlackBytes;
        if (!quiet || !(grown || released || answersGone))
            return false;
        // A connection that closes, or an answer given back, from here on may leave garbage that this collection does
        // not see.
        Volatile.Write(ref _closedSinceCollection, false);
        _answersReleasedAtCollection = answersReleased;
        _collect();
        Collections++;
        var after = _committedBytes();
        if (after > 0)
        {
            _afterLastCollection = after;
            _smallest = Math.Min(_smallest, after);
        }
        // Freed little: what is held is in use. Closed connections start the next try twice as late each time.
        var maxIntervals = (int)(MaxBackoff / Interval);
        var worthIt = committed - after >= SlackBytes;
        if (worthIt)
            (_intervalsToWait, _backoffIntervals) = (0, 1);
        else if (released && !grown && !answersGone)
        {
            _backoffIntervals = Math.Min(2 * _backoffIntervals, maxIntervals);
            _intervalsToWait = _backoffIntervals;
        }
        _lastAllocated = _allocatedBytes();
        return true;
    }

    /// <summary>
    /// A client connection has closed: what it held may be garbage now, so the next quiet look may collect. Any
    /// thread.
    /// </summary>
    public void ConnectionClosed() => Volatile.Write(ref _closedSinceCollection, true);

    public void Dispose() => _timer?.Dispose();
}
