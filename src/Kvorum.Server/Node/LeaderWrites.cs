using System.Diagnostics;
using System.Runtime.ExceptionServices;
using Kvorum.Raft;

namespace Kvorum.Server.Node;

/// <summary>
/// The leader's own log writes that run while its loop goes on (thesis §10.2.1: <see cref="Ready.MayPersistLater"/>):
/// the loop keeps stepping acknowledgements and taking proposals during the fsync, and each write is reported to the
/// Raft core once it is durable, from the loop, since only then do its entries count toward a quorum. A write that
/// fails stops the member, as a failed <see cref="Storage.DiskRaftStorage.Save"/> does.
/// </summary>
/// <remarks>Owned by the member loop (<see cref="LoopOwner"/>); the writes complete on other threads and post back to it.</remarks>
internal sealed class LeaderWrites
{
    /// <summary>
    /// How many may run at once. While one runs, the loop goes on stepping acknowledgements and proposals but takes
    /// no Ready, so the next write batches everything that arrived meanwhile, as with a blocking write: on 2 cores,
    /// more and smaller writes cost more CPU per entry than they save in waiting (measured in docs/benchmarks.md).
    /// </summary>
    public const int MaxInFlight = 1;

    private readonly Action<Action> _post;
    private readonly Action<ulong, ulong> _reportPersisted;
    private readonly Action<long, int> _durable;
    private readonly LoopOwner _owner;

    // Writes started and not yet reported durable.
    private int _inFlight;

    /// <summary>Creates the writes of one member; a test passes no <paramref name="owner"/>.</summary>
    /// <param name="post">Runs an action on the member loop.</param>
    /// <param name="reportPersisted">Tells the core the log is durable up to this index and term.</param>
    /// <param name="durable">Told, on the loop, when a write that started at this <see cref="Stopwatch"/> timestamp, of this many entries, became durable.</param>
    /// <param name="owner">The loop that owns the writes.</param>
    public LeaderWrites(Action<Action> post, Action<ulong, ulong> reportPersisted, Action<long, int> durable, LoopOwner? owner = null)
    {
        _post = post;
        _reportPersisted = reportPersisted;
        _durable = durable;
        _owner = owner ?? new LoopOwner();
    }

    /// <summary>True while fewer than <see cref="MaxInFlight"/> writes run: the loop may take another Ready.</summary>
    public bool MayStartAnother => _inFlight < MaxInFlight;

    /// <summary>Writes running.</summary>
    public int InFlight => _inFlight;

    /// <summary>
    /// A write of <paramref name="entries"/> (and maybe a hard state) started and becomes durable with
    /// <paramref name="durable"/>; it is reported from the loop then. A hard state that only moves the commit index
    /// and is complete already has nothing to report.
    /// </summary>
    public void Started(Task durable, IReadOnlyList<Entry> entries)
    {
        ArgumentNullException.ThrowIfNull(durable);
        ArgumentNullException.ThrowIfNull(entries);
        _owner.AssertOwned();
        if (entries.Count == 0 && durable.IsCompletedSuccessfully)
            return;
        var started = Stopwatch.GetTimestamp();
        var (index, term) = entries.Count > 0 ? (entries[^1].Index, entries[^1].Term) : (0UL, 0UL);
        _inFlight++;
        durable.ContinueWith(
            t => _post(() => Finished(t, started, entries.Count, index, term)),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private void Finished(Task write, long started, int entries, ulong index, ulong term)
    {
        _owner.AssertOwned();
        _inFlight--;
        if (write.Exception is { } e)
            ExceptionDispatchInfo.Throw(e.InnerException ?? e);
        _durable(started, entries);
        if (index > 0)
            _reportPersisted(index, term);
    }
}
