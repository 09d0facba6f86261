using System.Diagnostics;
using Google.Protobuf;
using Kvorum.Etcd.Errors;
using Kvorum.Raft;
using Kvorum.Server.Transport;
using Kvorum.Storage;
using Microsoft.Extensions.Logging;

namespace Kvorum.Server.Node;

/// <summary>
/// One member's runtime: a single event loop thread owns the Raft core, the storage and the MVCC state machine, and
/// the tables of waiters and schedules beside them, so none of them needs a lock; each of those says so in its doc
/// comment and checks it in debug builds (<see cref="LoopOwner"/>). Everything else (gRPC handlers, the transport,
/// the tick timer) talks to the loop by posting work to its inbox.
/// </summary>
/// <remarks>
/// This file reads in the order things happen: the inbox, a loop turn (the work posted: ticks, messages stepped,
/// proposals), then each Ready (<see cref="ProcessReady"/>). The other parts:
/// <list type="bullet">
/// <item><c>KvorumNode.Start.cs</c>: rebuilding the core and the state machine from storage, or bootstrapping them.</item>
/// <item><c>KvorumNode.Requests.cs</c>: what clients ask (writes, reads, queries), and the waiters of each
/// (<see cref="ProposalTable"/>, <see cref="LinearizableReads"/>).</item>
/// <item><c>KvorumNode.Apply.cs</c>: applying committed entries, configuration changes and leader changes.</item>
/// <item><c>KvorumNode.Membership.cs</c>: membership changes (<see cref="MembershipRequests"/>) and leadership transfers.</item>
/// <item><c>KvorumNode.Snapshots.cs</c>: taking snapshots when <see cref="SnapshotSchedule"/> says, and installing a leader's.</item>
/// <item><c>KvorumNode.Transport.cs</c>: what the peer transport delivers, and the snapshots it sends.</item>
/// <item><c>KvorumNode.Maintenance.cs</c>: the quota and its alarm (<see cref="BackendQuota"/>), backups, storage
/// sizes and auto-compaction.</item>
/// <item><c>KvorumNode.Leases.cs</c>: leases: grants and revokes through Raft, the leader's expiry, and renewals
/// answered by the leader (forwarded to it by followers).</item>
/// <item><c>KvorumNode.Watch.cs</c>: the watchers (<see cref="Watch.WatcherRegistry"/>): work posted to them, their
/// catch-up pass each tick, and ending their streams.</item>
/// </list>
/// </remarks>
internal sealed partial class KvorumNode : IRaftMessageSink, IAsyncDisposable
{
    private readonly ServerOptions _options;
    private readonly DiskRaftStorage _storage;
    private readonly ILogger _log;
    private readonly LoopInbox _inbox = new();
    private readonly LoopOwner _owner = new();
    private readonly StateMachine _state;
    private readonly ProposalTable _proposals;
    private readonly LinearizableReads _reads;

    /// <summary>Callers waiting for an index to apply (<see cref="ResolveTokenAsync"/>).</summary>
    private readonly AppliedIndexWaiters _appliedWaiters;

    /// <summary>The applied index as of the last Ready handled, for any thread to read: a lower bound of the loop's.</summary>
    private ulong _appliedPublished;

    private readonly WritesAwaitingLeader _awaitingLeader;
    private readonly MembershipRequests _membership;
    private readonly OwnAttributes _attributes;
    private readonly SnapshotSchedule _snapshots;
    private readonly ReceivedSnapshots _receivedSnapshots;
    private readonly GcPolicy _gc;
    private readonly BackendQuota _quota;
    private readonly BackupWriter _backups;
    private readonly LoopDelays _delays;
    private readonly LeaderWrites _leaderWrites;
    private readonly Watch.WatcherRegistry _watchers;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Set when the loop has stopped taking work (see the end of Loop).
    private bool _closed;
    private RaftNode _raft = null!;
    private IPeerTransport? _transport;
    private Thread? _thread;
    private Timer? _ticker;

    // Set once Load has rebuilt the state from storage.
    private bool _loaded;

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
        MemberId = memberId;
        ClusterId = clusterId;
        // Request ids and read contexts start at random: see LinearizableReads on why a restart must not reuse them.
        _state = new StateMachine(_owner, Lease.Lessor.MinTtlSeconds(options.ElectionTimeoutMs, options.HeartbeatIntervalMs),
            tokens: Auth.AuthTokenOptions.Create(options.AuthToken, options.AuthTokenTtl), leaseCheckpoints: options.LeaseCheckpoints);
        _proposals = new ProposalTable((long)(RequestTimeout.TotalSeconds * Stopwatch.Frequency), (ulong)Random.Shared.NextInt64(), _owner);
        _awaitingLeader = new WritesAwaitingLeader((long)(RequestTimeout.TotalSeconds * Stopwatch.Frequency), _owner);
        _appliedWaiters = new AppliedIndexWaiters(_owner);
        _reads = new LinearizableReads(context => _raft.ReadIndex(context), () => _raft.Lead, ReadIndexRetryTicks, RequestTimeoutTicks, (ulong)Random.Shared.NextInt64(), Metrics, _owner);
        _membership = new MembershipRequests((long)(RequestTimeout.TotalSeconds * Stopwatch.Frequency), _owner);
        _attributes = new OwnAttributes(memberId, options.Name, options.AdvertiseClientUrls, _owner);
        _snapshots = new SnapshotSchedule(options.SnapshotCount, options.SnapshotCatchUpEntries, _owner);
        _receivedSnapshots = new ReceivedSnapshots(_owner);
        _gc = GcPolicy.Of(options, memberId, Metrics, _owner);
        _quota = new BackendQuota(options.QuotaBackendBytes, log, _owner);
        _backups = new BackupWriter(options.DataDir);
        _delays = new LoopDelays(log, options.HeartbeatIntervalMs, options.ElectionTimeoutMs, _owner);
        _leaderWrites = new LeaderWrites(Post, (index, term) => _raft.ReportPersisted(index, term),
            (started, entries) => _delays.Written(Metrics.Fsync.ObserveSince(started), entries), _owner);
        _watchers = NewWatcherRegistry(_state, Post, _owner);
        _observers = new Observe.MemberObservers(_owner);
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
        var started = Stopwatch.GetTimestamp();
        _backups.DeleteLeftovers();
        Restore();
        _loaded = true;
        var milliseconds = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        LogLoaded(_log, _storage.Snapshot.Index, _storage.LastIndex, _state.AppliedIndex, _state.Store.Revision, milliseconds);
    }

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

    /// <summary>Queues work for the loop thread. Never blocks.</summary>
    internal void Post(Action work) => _inbox.Post(work);

    /// <summary>
    /// The member loop, on its own thread, which owns the state (<see cref="LoopOwner"/>). Each turn runs the work
    /// posted (ticks, messages to step, proposals, reads to queue), asks one ReadIndex for the reads queued, handles
    /// the core's Ready (<see cref="ProcessReady"/>), publishes this member's attributes while the member table lacks
    /// them, publishes the status, and starts a collection when one is due (<see cref="GcPolicy"/>).
    /// </summary>
    private void Loop()
    {
        _owner.Bind();
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
                _reads.Flush(_loopTicks);
                ProcessReady();
                // An answer to the ReadIndex in flight may have come with this Ready: the reads queued behind it go now.
                if (_reads.Flush(_loopTicks))
                    ProcessReady();
                if (_awaitingLeader.Count > 0 && _raft.Lead != 0)
                {
                    foreach (var waiting in _awaitingLeader.TakeAll())
                        ProposeOnLoop(waiting.Request, waiting.Waiter, waiting.ArrivedAt);
                    ProcessReady();
                }
                // Once an entry of the leader's term is applied here, the leader has committed one and takes membership
                // changes: before that it would refuse (or, forwarded, silently drop) them.
                if (_membership.AwaitingLeaderCount > 0 && _raft.Lead != 0 && _state.AppliedTerm == _raft.Term)
                {
                    _membership.ProposeAwaiting(_state.Members, _raft.Config, c => _raft.ProposeConfChange(c).Status);
                    ProcessReady();
                }
                if (_leaderKnown && _attributes.IsDue(_state.Members, Environment.TickCount64))
                {
                    _raft.Propose(_attributes.Publish(_proposals.NextId(), Environment.TickCount64).ToByteArray());
                    ProcessReady();
                }
                PublishStatus();
                if (_observers.Active)
                    ObserveTurn();
                _gc.AfterTurn(_state.AppliedIndex, _raft.Role == StateRole.Leader, _raft.Lead, _raft.Config.Voters);
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
            FailAllWaiters(new EtcdException(EtcdErrors.ServerStopped));
            _watchers.CloseAll(EtcdErrors.ServerStopped);
            _owner.Release();
            _stopped.TrySetResult();
        }
    }

    /// <summary>
    /// One heartbeat interval passed: the core's clock, writes past their deadline fail, reads waiting too long ask
    /// again, and the leader revokes expired leases.
    /// </summary>
    private void OnTick()
    {
        _owner.AssertOwned();
        _delays.Tick(Stopwatch.GetTimestamp(), _leaderKnown);
        _raft.Tick();
        _loopTicks++;
        _proposals.Expire(Stopwatch.GetTimestamp());
        _awaitingLeader.Expire(Stopwatch.GetTimestamp());
        _membership.Expire(Stopwatch.GetTimestamp());
        _reads.AskAgain(_loopTicks);
        _watchers.CatchUpPass();
        ExpireLeases();
        CheckpointLeases();
    }

    /// <summary>
    /// Handles each Ready in this order: send what may go out before the write
    /// (<see cref="Ready.MaySendBeforePersisting"/>); install its snapshot; persist its hard state and entries (a
    /// leader's write runs on, <see cref="LeaderWrites"/>); take note of a new role or leader, then send the rest;
    /// apply the committed entries and serve the reads whose read index is applied; advance the core and check
    /// whether a snapshot is due.
    /// </summary>
    private void ProcessReady()
    {
        _owner.AssertOwned();
        while (_leaderWrites.MayStartAnother && _raft.HasReady)
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
                    _leaderWrites.Started(_storage.StartSave(rd.HardState, rd.EntriesSpan), rd.Entries);
                }
                else
                {
                    // Durable once waited for, and with it every write queued before (the WAL is written in order).
                    // A hard state that only moves the commit index is queued without an fsync (complete at once):
                    // the histogram counts only the writes that wait for the disk, as etcd's fsync metric does.
                    var started = Stopwatch.GetTimestamp();
                    var durable = _storage.StartSave(rd.HardState, rd.EntriesSpan);
                    var waits = !durable.IsCompleted;
                    durable.GetAwaiter().GetResult();
                    if (waits)
                        _delays.Written(Metrics.Fsync.ObserveSince(started), rd.Entries.Count);
                }
                LearnPeersFromEntries(rd.Entries);
            }
            if (rd.SoftState is { } soft)
                OnSoftState(soft);
            Send(rd, beforePersisting: false);
            if (rd.CommittedEntries.Count > 0)
            {
                var started = Stopwatch.GetTimestamp();
                foreach (var e in rd.CommittedEntries)
                    Apply(e);
                Metrics.Apply.ObserveSince(started);
                Interlocked.Add(ref Metrics.EntriesApplied, rd.CommittedEntries.Count);
            }
            foreach (var rs in rd.ReadStates)
                _reads.OnReadState(rs.Context.Span, rs.Index);
            _reads.ServeApplied(_state.AppliedIndex);
            _appliedWaiters.Release(_state.AppliedIndex);
            Volatile.Write(ref _appliedPublished, _state.AppliedIndex);
            if (rd.MayPersistLater)
                _raft.AdvanceBeforePersisted();
            else
                _raft.Advance();
            MaybeSnapshot();
        }
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
            if (_observers.Active)
                _observers.Sent(m);
            if (m.Type == MessageType.Snapshot)
                SendSnapshot(m);
            else
                _transport!.Send(m);
        }
    }

    private void PublishStatus()
    {
        Volatile.Write(ref Metrics.ForeignLeaderMessages, _raft.ForeignLeaderMessages);
        var current = _status;
        var learner = _raft.Config.IsLearner(MemberId);
        if (current.Term == _raft.Term && current.Leader == _raft.Lead && current.Commit == _raft.Committed && current.Applied == _state.AppliedIndex
            && current.LastIndex == _raft.LastIndex && current.Revision == _state.Store.Revision && current.Role == _raft.Role && current.IsLearner == learner)
            return;
        _status = new NodeStatus(_raft.Term, _raft.Lead, _raft.Committed, _state.AppliedIndex, _raft.LastIndex, _state.Store.Revision, _raft.Role, learner);
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
        _receivedSnapshots.Dispose();
        _leaderForwarder.Dispose();
        _storage.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "loaded the data directory in {Milliseconds} ms: snapshot at index {SnapshotIndex}, log to index {LastIndex}, applied to {Applied}, revision {Revision}")]
    private static partial void LogLoaded(ILogger log, ulong snapshotIndex, ulong lastIndex, ulong applied, long revision, long milliseconds);

    [LoggerMessage(Level = LogLevel.Critical, Message = "raft loop failed")]
    private static partial void LogFatal(ILogger log, Exception e);
}

/// <summary>A member's state as last published by its loop.</summary>
internal sealed record NodeStatus(ulong Term, ulong Leader, ulong Commit, ulong Applied, ulong LastIndex, long Revision, StateRole Role, bool IsLearner);
