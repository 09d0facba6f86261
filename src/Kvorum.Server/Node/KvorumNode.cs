using System.Collections.Immutable;
using System.Diagnostics;
using Google.Protobuf;
using Kvorum.Raft;
using Kvorum.Etcd.Api;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Transport;
using Kvorum.Storage;
using Microsoft.Extensions.Logging;

namespace Kvorum.Server.Node;

/// <summary>
/// One member's runtime: a single event loop thread owns the Raft core, the storage and the MVCC state
/// machine, so none of them needs a lock. Everything else (gRPC handlers, the transport, the tick timer)
/// talks to it by posting work to its inbox. Split by concern: this file holds the loop and the Ready
/// handling; <c>KvorumNode.Requests.cs</c> the client-facing operations; <c>KvorumNode.Apply.cs</c> applying
/// committed entries; <c>KvorumNode.Start.cs</c> bootstrap and restart; <c>KvorumNode.Transport.cs</c> what the peer
/// transport delivers and snapshots sent; <c>KvorumNode.Membership.cs</c> membership changes and leadership transfers;
/// <c>KvorumNode.Snapshots.cs</c>, <c>KvorumNode.Backup.cs</c>, <c>KvorumNode.Quota.cs</c> and
/// <c>KvorumNode.AutoCompaction.cs</c> their concerns.
/// </summary>
public sealed partial class KvorumNode : IRaftMessageSink, IAsyncDisposable
{
    private readonly ServerOptions _options;
    private readonly DiskRaftStorage _storage;
    private readonly ILogger _log;
    private readonly LoopInbox _inbox = new();
    // No lease exists until the Lease service is built (it answers Unimplemented): a put that names a lease fails with
    // etcd's "requested lease not found", as etcd answers for a lease it does not know.
    private readonly MvccStore _mvcc = new() { LeaseExists = static _ => false };
    private readonly MemberTable _members = new();
    private readonly Dictionary<ulong, SnapshotReceiver> _receivedSnapshots = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Set when the loop has stopped taking work (see the end of Loop).
    private bool _closed;
    private RaftNode _raft = null!;
    private IPeerTransport? _transport;
    private Thread? _thread;
    private Timer? _ticker;

    /// <summary>Ticks since the loop started. Loop thread only.</summary>
    private long _loopTicks;

    /// <summary>Latest status, published by the loop for lock-free readers.</summary>
    private volatile NodeStatus _status = new(0, 0, 0, 0, 0, 0, StateRole.Follower, false);

    /// <summary>Creates the node over an opened storage; call <see cref="Start"/> to run it.</summary>
    public KvorumNode(ServerOptions options, DiskRaftStorage storage, ulong memberId, ulong clusterId, ILogger log)
    {
        _options = options;
        _storage = storage;
        _log = log;
        _gcStagger = options.GcStaggerEntries > 0 ? new GcStagger(options.GcStaggerEntries) : null;
        _leaderGcBudget = options.LeaderGcBudgetBytes > 0 ? new LeaderGcBudget(options.LeaderGcBudgetBytes) : null;
        MemberId = memberId;
        ClusterId = clusterId;
    }

    /// <summary>This member's id.</summary>
    public ulong MemberId { get; }

    /// <summary>The cluster's id.</summary>
    public ulong ClusterId { get; }

    /// <summary>Counters and latency histograms for <c>/metrics</c>.</summary>
    internal NodeMetrics Metrics { get; } = new();

    /// <summary>The latest status the loop published.</summary>
    public NodeStatus Status => _status;

    /// <summary>Completes when the loop stops (shutdown, or this member was removed from the cluster).</summary>
    public Task Stopped => _stopped.Task;

    /// <summary>Set when the loop stopped on an unexpected error.</summary>
    public bool Failed { get; private set; }

    /// <summary>Set when this member has been removed from the cluster.</summary>
    public bool Removed { get; private set; }

    // Set once Load has rebuilt the state from storage.
    private bool _loaded;

    /// <summary>
    /// Rebuilds the core and the state machine from the storage (bootstrapping a new member's), which for a large
    /// snapshot takes seconds: the server calls it before it listens, so that clients meanwhile are refused at once
    /// and turn to another member, instead of waiting out their deadline on a member that cannot answer yet.
    /// <see cref="Start"/> calls it when it was not called.
    /// </summary>
    /// <exception cref="InvalidDataException">The snapshot in storage cannot be read.</exception>
    public void Load(IPeerTransport transport)
    {
        if (_loaded)
            throw new InvalidOperationException("the node is already loaded");
        _transport = transport;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        DeleteLeftoverBackups();
        Restore();
        _loaded = true;
        var milliseconds = (long)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        LogLoaded(_log, _storage.Snapshot.Index, _storage.LastIndex, _appliedIndex, _mvcc.Revision, milliseconds);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "loaded the data directory in {Milliseconds} ms: snapshot at index {SnapshotIndex}, log to index {LastIndex}, applied to {Applied}, revision {Revision}")]
    private static partial void LogLoaded(ILogger log, ulong snapshotIndex, ulong lastIndex, ulong applied, long revision, long milliseconds);

    /// <summary>Starts the loop thread and the tick timer; the transport must exist by now.</summary>
    public void Start(IPeerTransport transport)
    {
        if (!_loaded)
            Load(transport);
        _thread = new Thread(Loop) { IsBackground = true, Name = $"kvorum-raft-{MemberId:x}" };
        _thread.Start();
        var interval = TimeSpan.FromMilliseconds(_options.HeartbeatIntervalMs);
        _ticker = new Timer(_ => Post(OnTick), null, interval, interval);
        StartAutoCompaction();
    }

    /// <summary>One heartbeat interval passed: the core's clock, writes past their deadline fail, and reads waiting too long ask again.</summary>
    private void OnTick()
    {
        WarnIfLate();
        _raft.Tick();
        _loopTicks++;
        ExpireProposals();
        AskAgainForReadIndex();
    }

    /// <summary>Queues work for the loop thread. Never blocks.</summary>
    internal void Post(Action work) => _inbox.Post(work);

    // Staggers the followers' collections (see GcStagger); null when ServerOptions.GcStaggerEntries is 0.
    private readonly GcStagger? _gcStagger;

    // Shortens the leader's collections (see LeaderGcBudget); null when ServerOptions.LeaderGcBudgetBytes is 0.
    private readonly LeaderGcBudget? _leaderGcBudget;

    // GcPhase's last answer, and the leader and voters it was computed for.
    private (ulong Leader, ImmutableArray<ulong> Voters, double Phase) _gcPhase;

    /// <summary>This member's shift in the followers' collection grid; recomputed when the leader or the voters change.</summary>
    private double GcPhase()
    {
        var voters = _raft.Config.Voters;
        if (_gcPhase.Leader != _raft.Lead || _gcPhase.Voters != voters)
            _gcPhase = (_raft.Lead, voters, GcStagger.PhaseOf(MemberId, voters, _raft.Lead));
        return _gcPhase.Phase;
    }

    private void Loop()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                if (!_inbox.TryTake(out var work))
                {
                    if (!_inbox.WaitForWork(_stop.Token))
                        break;
                    continue;
                }
                // Drain what is queued: many proposals and messages, then one Ready and one fsync.
                var n = 0;
                do
                {
                    work();
                }
                while (++n < 4096 && _inbox.TryTake(out work));
                FlushReadBatch();
                ProcessReady();
                // An answer to the ReadIndex in flight may have come with this Ready: the reads queued behind it go now.
                if (FlushReadBatch())
                    ProcessReady();
                if (_leaderKnown && NeedsAttributes())
                {
                    PublishOwnAttributes();
                    ProcessReady();
                }
                PublishStatus();
                var isLeader = _raft.Role == StateRole.Leader;
                if (_gcStagger?.Tick(_appliedIndex, isLeader, GcPhase()) == true)
                    Interlocked.Increment(ref Metrics.StaggeredCollections);
                if (_leaderGcBudget?.Tick(isLeader) == true)
                    Interlocked.Increment(ref Metrics.LeaderBudgetCollections);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            Failed = true;
            LogFatal(_log, e);
        }
        finally
        {
            // Work posted from now on never runs: a proposal that sees _closed fails itself (ProposeAsync). Work posted
            // before is run here, so its proposals are registered, then failed with the rest. The fence pairs with the
            // one in LoopInbox.Post: a poster either sees _closed or has its work taken below.
            Volatile.Write(ref _closed, true);
            Interlocked.MemoryBarrier();
            while (_inbox.TryTake(out var late))
            {
                try
                {
                    late();
                }
#pragma warning disable CA1031 // The loop is gone; what is left only has to reach FailAllWaiters.
                catch (Exception)
#pragma warning restore CA1031
                {
                }
            }
            FailAllWaiters(ServerStopped());
            _stopped.TrySetResult();
        }
    }

    // How many of the leader's own writes may run at once. While one runs, the loop goes on stepping
    // acknowledgements and proposals but takes no Ready, so the next write batches everything that arrived
    // meanwhile, as with a blocking write: on 2 cores, more and smaller writes cost more CPU per entry than they
    // save in waiting (measured with 2 and 4: no better at 64 clients, worse at 256).
    private const int MaxLeaderWritesInFlight = 1;

    // Leader writes issued and not yet reported durable. Loop thread only.
    private int _leaderWritesInFlight;

    /// <summary>Persist, send, apply, answer, advance — in that order (see <see cref="Ready"/>).</summary>
    private void ProcessReady()
    {
        while (_leaderWritesInFlight < MaxLeaderWritesInFlight && _raft.HasReady)
        {
            var rd = _raft.GetReady();
            // Thesis §10.2.1: a leader's replication messages go out before its own disk write, so the
            // followers' fsyncs overlap the leader's; the core says which may (Ready.MaySendBeforePersisting).
            Send(rd, beforePersisting: true);
            if (rd.Snapshot is { } snap)
                InstallSnapshot(snap);
            if (rd.HardState is not null || rd.Entries.Count > 0)
            {
                if (rd.MayPersistLater)
                {
                    // A leader does not wait for its own write: it goes on stepping acknowledgements and taking
                    // proposals while the fsync runs, and the next Ready's write queues behind this one.
                    WriteInBackground(_storage.StartSave(rd.HardState, rd.EntriesSpan), rd.Entries);
                }
                else
                {
                    // Durable once waited for, and with it every write queued before (the WAL is written in order).
                    // A hard state that only moves the commit index is queued without an fsync (complete at once):
                    // the histogram counts only the writes that wait for the disk, as etcd's fsync metric does.
                    var started = System.Diagnostics.Stopwatch.GetTimestamp();
                    var durable = _storage.StartSave(rd.HardState, rd.EntriesSpan);
                    var waits = !durable.IsCompleted;
                    durable.GetAwaiter().GetResult();
                    if (waits)
                        WarnIfSlow(Metrics.Fsync.ObserveSince(started), rd.Entries.Count);
                }
                LearnPeersFromEntries(rd.Entries);
            }
            if (rd.SoftState is { } soft)
                OnSoftState(soft);
            Send(rd, beforePersisting: false);
            if (rd.CommittedEntries.Count > 0)
            {
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                foreach (var e in rd.CommittedEntries)
                    Apply(e);
                Metrics.Apply.ObserveSince(started);
                Interlocked.Add(ref Metrics.EntriesApplied, rd.CommittedEntries.Count);
            }
            foreach (var rs in rd.ReadStates)
                OnReadState(rs);
            ServeReadyReads();
            if (rd.MayPersistLater)
                _raft.AdvanceBeforePersisted();
            else
                _raft.Advance();
            MaybeSnapshot();
        }
    }

    /// <summary>
    /// Reports a leader's write to the core once it is durable, from the loop: only then do its entries count
    /// toward a quorum. A failed write stops the node, as a failed <see cref="DiskRaftStorage.Save"/> does.
    /// </summary>
    private void WriteInBackground(Task durable, IReadOnlyList<Entry> entries)
    {
        if (entries.Count == 0 && durable.IsCompletedSuccessfully)
            return; // a commit index alone: nothing to report
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var (index, term) = entries.Count > 0 ? (entries[^1].Index, entries[^1].Term) : (0UL, 0UL);
        _leaderWritesInFlight++;
        durable.ContinueWith(
            t => Post(() =>
            {
                _leaderWritesInFlight--;
                if (t.Exception is { } e)
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException ?? e);
                WarnIfSlow(Metrics.Fsync.ObserveSince(started), entries.Count);
                if (index > 0)
                    _raft.ReportPersisted(index, term);
            }),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>
    /// Sends the Ready's messages that may go out before its write is durable (<paramref name="beforePersisting"/>),
    /// or the others once it is.
    /// </summary>
    private void Send(Ready rd, bool beforePersisting)
    {
        foreach (var m in rd.Messages)
        {
            if (rd.MaySendBeforePersisting(m) != beforePersisting)
                continue;
            Interlocked.Increment(ref Metrics.MessagesSent[(int)m.Type & 31]);
            if (m.Type == MessageType.Snapshot)
                SendSnapshot(m);
            else
                _transport!.Send(m);
        }
    }

    private void PublishStatus()
    {
        var current = _status;
        var learner = _raft.Config.IsLearner(MemberId);
        if (current.Term == _raft.Term && current.Leader == _raft.Lead && current.Commit == _raft.Committed && current.Applied == _appliedIndex
            && current.LastIndex == _raft.LastIndex && current.Revision == _mvcc.Revision && current.Role == _raft.Role && current.IsLearner == learner)
            return;
        _status = new NodeStatus(_raft.Term, _raft.Lead, _raft.Committed, _appliedIndex, _raft.LastIndex, _mvcc.Revision, _raft.Role, learner);
    }

    /// <summary>Stops the loop and the timer, and closes the storage.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_ticker is not null)
            await _ticker.DisposeAsync().ConfigureAwait(false);
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_thread is not null)
            await _stopped.Task.ConfigureAwait(false);
        await _snapshotWriting.ConfigureAwait(false); // its file, unless committed, is deleted at the next open
        await _autoCompacting.ConfigureAwait(false); // ends with _stop
        _stop.Dispose();
        foreach (var received in _receivedSnapshots.Values)
            received.Dispose();
        _storage.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "raft loop failed")]
    private static partial void LogFatal(ILogger log, Exception e);

    /// <summary>A disk write slower than this is logged, as etcd logs a "slow fdatasync".</summary>
    private static readonly TimeSpan SlowWrite = TimeSpan.FromSeconds(1);

    private void WarnIfSlow(TimeSpan took, int entries)
    {
        if (took > SlowWrite)
            LogSlowWrite(_log, (long)took.TotalMilliseconds, entries, (long)SlowWrite.TotalMilliseconds);
    }

    // When the previous tick ran (Stopwatch timestamp); 0 before the first. Loop thread only.
    private long _lastTickAt;

    /// <summary>
    /// Logs a tick that ran more than half an election timeout after the one before: this member's elections
    /// and heartbeats were late by as much (the loop blocked on the disk, or the timer's thread pool was busy).
    /// Not before a leader is first known: starting up (opening the WAL, compiling the code) is slow once.
    /// </summary>
    private void WarnIfLate()
    {
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (_lastTickAt != 0 && _leaderKnown)
        {
            var gap = System.Diagnostics.Stopwatch.GetElapsedTime(_lastTickAt, now);
            if (gap.TotalMilliseconds > Math.Max(_options.ElectionTimeoutMs / 2, 2 * _options.HeartbeatIntervalMs))
                LogLateTick(_log, (long)gap.TotalMilliseconds, _options.HeartbeatIntervalMs);
        }
        _lastTickAt = now;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "slow fsync: writing {Entries} entries took {Milliseconds} ms (expected under {Expected} ms); the disk is slow or overloaded")]
    private static partial void LogSlowWrite(ILogger log, long milliseconds, int entries, long expected);

    [LoggerMessage(Level = LogLevel.Warning, Message = "raft tick late: {Milliseconds} ms since the last one, expected {Interval} ms; the loop or the thread pool is overloaded, so elections and heartbeats run late")]
    private static partial void LogLateTick(ILogger log, long milliseconds, int interval);

}

/// <summary>A member's state as last published by its loop.</summary>
public sealed record NodeStatus(ulong Term, ulong Leader, ulong Commit, ulong Applied, ulong LastIndex, long Revision, StateRole Role, bool IsLearner);
