namespace Kvorum.Raft;

/// <summary>
/// One Raft server as a pure state machine, in the shape of etcd-raft's RawNode. The host feeds it
/// time (<see cref="Tick"/>), messages (<see cref="Step"/>) and requests (<see cref="Propose"/>,
/// <see cref="ReadIndex"/>, ...), and after each call checks <see cref="HasReady"/>: a
/// <see cref="Ready"/> says what to persist, send and apply; <see cref="Advance"/> reports it done.
/// </summary>
/// <remarks>
/// Not thread-safe: call it from one thread. Between <see cref="GetReady"/> and <see cref="Advance"/>
/// only <see cref="Status"/> and <see cref="ConfStateAt"/> may be called; that is what lets the core
/// count the leader's own entries only once they are durable.
/// </remarks>
public sealed class RaftNode
{
    private readonly Raft _raft;
    private readonly RaftConfig _config;
    private SoftState _prevSoft;
    private HardState _prevHard;

    private readonly List<Entry> _readyEntries = [];
    private readonly List<Entry> _readyCommitted = [];

    /// <summary>The Ready handed out and not yet advanced, or null.</summary>
    private Ready? _outstanding;

    /// <summary>Creates a server from what <see cref="RaftConfig.Storage"/> holds (a restart, or a first start).</summary>
    /// <exception cref="ArgumentException">The configuration is invalid.</exception>
    /// <exception cref="InvalidOperationException">The persisted state is inconsistent.</exception>
    public RaftNode(RaftConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        _config = config;
        _raft = new Raft(config);
        _prevSoft = _raft.SoftState;
        _prevHard = config.Storage.HardState;
    }

    /// <summary>This server's id.</summary>
    public ulong Id => _raft.Id;

    /// <summary>Advances logical time by one tick: election timeouts, heartbeats, CheckQuorum.</summary>
    public void Tick()
    {
        EnsureNoOutstandingReady();
        _raft.Tick();
    }

    /// <summary>Delivers a message from another server. Messages addressed to others are ignored.</summary>
    /// <exception cref="LogMatchingException">
    /// The message carries an entry with an index and term this server holds but other contents; nothing changed.
    /// </exception>
    public void Step(in Message message)
    {
        EnsureNoOutstandingReady();
        if (message.To != Id || message.From == 0 || message.From == Id)
            return;
        _raft.Step(message);
    }

    /// <summary>Proposes a client command; only the leader accepts (the host forwards otherwise).</summary>
    public ProposeResult Propose(ReadOnlyMemory<byte> data)
    {
        EnsureNoOutstandingReady();
        return _raft.Propose(data);
    }

    /// <summary>Proposes a single-server membership change (thesis §4.1); leader only.</summary>
    public ProposeResult ProposeConfChange(ConfChange change)
    {
        EnsureNoOutstandingReady();
        return _raft.ProposeConfChange(change);
    }

    /// <summary>
    /// Requests a linearizable read point (thesis §6.4); the answer arrives as a <see cref="ReadState"/>
    /// with the same <paramref name="context"/>, which should be unique per request. Returns false if
    /// no leader is known. A request can be lost (leader change); the host should time it out.
    /// </summary>
    public bool ReadIndex(ReadOnlyMemory<byte> context)
    {
        EnsureNoOutstandingReady();
        return _raft.ReadIndex(context);
    }

    /// <summary>Asks the leader to hand over leadership to <paramref name="to"/> (thesis §3.10).</summary>
    public void TransferLeadership(ulong to)
    {
        EnsureNoOutstandingReady();
        _raft.TransferLeadership(to);
    }

    /// <summary>Starts an election now (with PreVote if configured), as an election timeout would.</summary>
    public void Campaign()
    {
        EnsureNoOutstandingReady();
        _raft.Hup(transfer: false);
    }

    /// <summary>The transport could not reach <paramref name="id"/>: stop pipelining to it until it answers.</summary>
    public void ReportUnreachable(ulong id)
    {
        EnsureNoOutstandingReady();
        _raft.ReportUnreachable(id);
    }

    /// <summary>The host finished (or failed) sending a snapshot to <paramref name="id"/>.</summary>
    public void ReportSnapshot(ulong id, bool success)
    {
        EnsureNoOutstandingReady();
        _raft.ReportSnapshot(id, success);
    }

    /// <summary>True if there is something to persist, send, apply or answer.</summary>
    public bool HasReady
    {
        get
        {
            if (_outstanding is not null)
                return false;
            var log = _raft.Log;
            return _raft.SoftState != _prevSoft
                || _raft.HardState != _prevHard
                || log.Unstable.HasEntriesToPersist
                || log.Unstable.Snapshot is not null
                || log.HasNextCommittedEntries
                || _raft.HasPendingOutput;
        }
    }

    /// <summary>
    /// Collects what the host must do now; call <see cref="Advance"/> when it is done. The Ready's
    /// <see cref="Ready.Entries"/> and <see cref="Ready.CommittedEntries"/> lists are reused: they are valid
    /// until <see cref="Advance"/>, so copy them to keep them longer.
    /// </summary>
    public Ready GetReady()
    {
        EnsureNoOutstandingReady();
        var log = _raft.Log;
        var soft = _raft.SoftState;
        var hard = _raft.HardState;
        // Reused buffers: the steady state allocates no per-entry arrays for Ready (valid until Advance).
        _readyEntries.Clear();
        log.Unstable.CopyEntriesToPersist(_readyEntries);
        _readyCommitted.Clear();
        log.NextCommittedEntries(_config.MaxCommittedSizePerReady, _readyCommitted);
        var entries = _readyEntries;
        var ready = new Ready
        {
            SoftState = soft != _prevSoft ? soft : null,
            HardState = hard != _prevHard ? hard : null,
            Entries = entries,
            Snapshot = log.Unstable.Snapshot,
            CommittedEntries = _readyCommitted,
            Messages = _raft.TakeMessages(),
            ReadStates = _raft.TakeReadStates(),
            MustSync = entries.Count > 0 || hard.Term != _prevHard.Term || hard.Vote != _prevHard.Vote,
            MayPersistLater = _raft.Role == StateRole.Leader && log.Unstable.Snapshot is null
                && hard.Term == _prevHard.Term && hard.Vote == _prevHard.Vote,
        };
        _prevSoft = soft;
        _prevHard = hard;
        _outstanding = ready;
        return ready;
    }

    /// <summary>
    /// Reports that the last <see cref="Ready"/> was persisted, sent and applied. The leader then counts
    /// its own persisted entries toward commitment (thesis §10.2.1).
    /// </summary>
    /// <remarks>
    /// Persisting the Ready also makes durable every write handed out earlier with
    /// <see cref="AdvanceBeforePersisted"/> (the host's writes become durable in order).
    /// </remarks>
    public void Advance()
    {
        var ready = TakeOutstanding();
        var log = _raft.Log;
        if (ready.Snapshot is { } snap)
            log.StableSnapshotTo(snap.Index);
        if (ready.Entries.Count > 0)
        {
            var last = ready.Entries[^1];
            log.StableTo(last.Index, last.Term);
        }
        FinishAdvance(ready);
    }

    /// <summary>
    /// Reports that the last <see cref="Ready"/> was sent and applied, and that its write (hard state and
    /// entries) was issued but may not be durable yet: allowed only if <see cref="Ready.MayPersistLater"/>.
    /// The entries are not handed out again; once they are durable the host calls
    /// <see cref="ReportPersisted"/> with the last one, and only then does the leader count them.
    /// </summary>
    /// <exception cref="InvalidOperationException">No Ready is outstanding, or it may not be persisted later.</exception>
    public void AdvanceBeforePersisted()
    {
        var ready = _outstanding ?? throw new InvalidOperationException("Advance called without an outstanding Ready");
        if (!ready.MayPersistLater)
            throw new InvalidOperationException("this Ready must be persisted before Advance");
        TakeOutstanding();
        if (ready.Entries.Count > 0)
            _raft.Log.Unstable.MarkInProgress(ready.Entries[^1].Index);
        FinishAdvance(ready);
    }

    /// <summary>
    /// Reports that a write issued after <see cref="AdvanceBeforePersisted"/> is durable, up to the entry at
    /// (<paramref name="index"/>, <paramref name="term"/>). Ignored if that entry has been replaced since.
    /// </summary>
    public void ReportPersisted(ulong index, ulong term)
    {
        EnsureNoOutstandingReady();
        var log = _raft.Log;
        log.StableTo(index, term);
        _raft.OnPersisted(log.PersistedLastIndex);
    }

    private Ready TakeOutstanding()
    {
        var ready = _outstanding ?? throw new InvalidOperationException("Advance called without an outstanding Ready");
        _outstanding = null;
        return ready;
    }

    private void FinishAdvance(Ready ready)
    {
        var log = _raft.Log;
        if (ready.CommittedEntries.Count > 0)
            log.AppliedTo(ready.CommittedEntries[^1].Index);
        _raft.OnMessagesSent();
        _raft.OnPersisted(log.PersistedLastIndex);
    }

    /// <summary>This server's role, without building a <see cref="Status"/>.</summary>
    public StateRole Role => _raft.Role;

    /// <summary>Current term.</summary>
    public ulong Term => _raft.Term;

    /// <summary>Known leader, or 0.</summary>
    public ulong Lead => _raft.Lead;

    /// <summary>Commit index.</summary>
    public ulong Committed => _raft.Log.Committed;

    /// <summary>True while a leader is known and was heard from within the election timeout.</summary>
    public bool HeardFromLeaderRecently => _raft.HeardFromLeaderRecently;

    /// <summary>
    /// Leader messages (append, heartbeat, snapshot) that <see cref="Step"/> dropped because another server than the
    /// known leader of their term sent them: a term has one leader, so they are forged or broken.
    /// </summary>
    public long ForeignLeaderMessages => _raft.ForeignLeaderMessages;

    /// <summary>Index of the last entry in the log.</summary>
    public ulong LastIndex => _raft.Log.LastIndex;

    /// <summary>The vote cast in the current term, or 0.</summary>
    public ulong Vote => _raft.Vote;

    /// <summary>Index of the last entry the host reported applied.</summary>
    public ulong Applied => _raft.Log.Applied;

    /// <summary>Index of the first entry still in the log (after the snapshot).</summary>
    public ulong FirstIndex => _raft.Log.FirstIndex;

    /// <summary>Ticks since the election timer was last reset; on a leader, since its last CheckQuorum round.</summary>
    public int ElectionElapsed => _raft.ElectionElapsed;

    /// <summary>The election timeout, in ticks, drawn at the timer's last reset (paper §5.2).</summary>
    public int RandomizedElectionTimeout => _raft.RandomizedElectionTimeout;

    /// <summary>The term of the entry at <paramref name="index"/>, or 0 when the log no longer (or does not yet) hold it.</summary>
    public ulong TermAt(ulong index) => _raft.Log.TermOrZero(index);

    /// <summary>
    /// On a leader, adds each member's replication progress to <paramref name="into"/> (cleared first; left empty on
    /// other roles). Reads without allocating, unlike <see cref="Status"/>.
    /// </summary>
    public void CopyProgress(List<KeyValuePair<ulong, ProgressStatus>> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        into.Clear();
        if (_raft.Role != StateRole.Leader)
            return;
        foreach (var (id, pr) in _raft.Tracker.Progress)
            into.Add(new(id, new ProgressStatus(pr.Match, pr.Next, pr.State)));
    }

    /// <summary>The configuration in effect (the latest in the log).</summary>
    public ConfState Config => _raft.Config;

    /// <summary>A snapshot of the server's state for status reports and tests (allocates; not for hot paths).</summary>
    public RaftStatus Status => new(
        _raft.Id, _raft.Term, _raft.Vote, _raft.Lead, _raft.Role, _raft.Log.Committed, _raft.Log.Applied,
        _raft.Log.LastIndex, _raft.Log.FirstIndex, _raft.Config, _raft.LeadTransferee,
        _raft.Role == StateRole.Leader
            ? _raft.Tracker.Progress.ToDictionary(static kv => kv.Key, static kv => new ProgressStatus(kv.Value.Match, kv.Value.Next, kv.Value.State))
            : new Dictionary<ulong, ProgressStatus>());

    /// <summary>The membership as of log index <paramref name="index"/>, which must not be compacted; for the host's snapshots.</summary>
    public ConfState ConfStateAt(ulong index) => _raft.ConfigAt(index);

    private void EnsureNoOutstandingReady()
    {
        if (_outstanding is not null)
            throw new InvalidOperationException("a Ready is outstanding: call Advance first");
    }
}

/// <summary>A member's replication progress as seen by the leader.</summary>
public readonly record struct ProgressStatus(ulong Match, ulong Next, Tracking.ProgressState State);

/// <summary>A point-in-time view of a <see cref="RaftNode"/>.</summary>
public sealed record RaftStatus(
    ulong Id,
    ulong Term,
    ulong Vote,
    ulong Lead,
    StateRole Role,
    ulong Commit,
    ulong Applied,
    ulong LastIndex,
    ulong FirstIndex,
    ConfState Config,
    ulong LeadTransferee,
    IReadOnlyDictionary<ulong, ProgressStatus> Progress);
