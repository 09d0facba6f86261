using System.Diagnostics;
using Kvorum.Raft.Log;
using Kvorum.Raft.Tracking;

namespace Kvorum.Raft;

/// <summary>
/// The Raft state machine of one server. Single-threaded and deterministic: it changes only when the
/// host calls in, and it reports what to do through its outgoing messages and the log cursors that
/// <see cref="RaftNode"/> turns into a <see cref="Ready"/>. Split by concern into partial files:
/// roles and ticks here, then Step, Election, Propose, Replication (leader), Follower, Membership, ReadIndex
/// and Transfer.
/// </summary>
internal sealed partial class Raft
{
    private readonly RaftConfig _config;
    private readonly Random _random;
    private readonly int _electionTimeout;
    private readonly int _heartbeatTimeout;

    /// <summary>Outgoing messages since the last <see cref="Ready"/>.</summary>
    private List<Message> _messages = [];

    private List<ReadState> _readStates = [];
    private List<Message> _messagesSpare = [];
    private List<ReadState> _readStatesSpare = [];

    /// <summary>Ticks since the last election timeout reset (follower/candidate) or CheckQuorum round (leader).</summary>
    private int _electionElapsed;

    /// <summary>Ticks since the last heartbeat (leader only).</summary>
    private int _heartbeatElapsed;

    /// <summary>
    /// Drawn from [ElectionTick + 1, 2 × ElectionTick] at every reset (paper §5.2), by
    /// <see cref="ResetRandomizedElectionTimeout"/>.
    /// </summary>
    private int _randomizedElectionTimeout;

    /// <summary>Ticks since this server started, as leader; the clock of the read lease.</summary>
    private long _leaderTicks;

    /// <summary>Ticks since this server started (any role).</summary>
    private long _ticksSinceStart;

    /// <summary>The leader appended entries that followers have not been sent yet; flushed once per Ready (batching).</summary>
    private bool _broadcastPending;

    public Raft(RaftConfig config)
    {
        config.Validate();
        _config = config;
        _random = config.Random;
        Id = config.Id;
        _electionTimeout = config.ElectionTick;
        _heartbeatTimeout = config.HeartbeatTick;
        Tracker = new ProgressTracker(config.MaxInflightMsgs, config.MaxInflightBytes);
        Log = new RaftLog(config.Storage, config.Applied);

        var hs = config.Storage.HardState;
        RestoreConfigHistory(config.Storage);
        if (!hs.IsEmpty)
        {
            if (hs.Commit > Log.LastIndex)
                throw new InvalidOperationException($"persisted commit {hs.Commit} is past the last index {Log.LastIndex}: storage is inconsistent");
            Log.CommitTo(hs.Commit);
            Term = hs.Term;
            Vote = hs.Vote;
        }
        if (config.Applied > Log.Committed)
            throw new InvalidOperationException($"applied index {config.Applied} is past the commit index {Log.Committed}");
        BecomeFollower(Term, 0);
    }

    public ulong Id { get; }

    /// <summary>Current term (persisted).</summary>
    public ulong Term { get; private set; }

    /// <summary>Vote in the current term, or 0 (persisted).</summary>
    public ulong Vote { get; private set; }

    /// <summary>Known leader of the current term, or 0.</summary>
    public ulong Lead { get; private set; }

    /// <summary>True while a leader is known and was heard from (or, on the leader, a quorum checked) within the election timeout.</summary>
    public bool HeardFromLeaderRecently => Lead != 0 && _electionElapsed < _electionTimeout;

    /// <summary>Leader messages (append, heartbeat, snapshot) dropped because they came from another server than the known leader of their term.</summary>
    public long ForeignLeaderMessages { get; private set; }

    public StateRole Role { get; private set; }

    public RaftLog Log { get; }

    public ProgressTracker Tracker { get; }

    public int ElectionTimeout => _electionTimeout;

    /// <summary>Ticks since the election timer was last reset (on a leader: since the last CheckQuorum round).</summary>
    public int ElectionElapsed => _electionElapsed;

    /// <summary>The election timeout drawn at the last reset, in ticks.</summary>
    public int RandomizedElectionTimeout => _randomizedElectionTimeout;

    public HardState HardState => new(Term, Vote, Log.Committed);

    public SoftState SoftState => new(Lead, Role);

    /// <summary>
    /// True if this server may become leader: it is a voter of the current configuration, or the current configuration
    /// removed it and is not known to be committed yet (<see cref="RemovalPending"/>).
    /// </summary>
    public bool Promotable => Tracker.Config.IsVoter(Id) || RemovalPending;

    public bool HasPendingOutput => _messages.Count > 0 || _readStates.Count > 0 || _broadcastPending;

    /// <summary>
    /// Hands out the messages gathered since the last call. Two lists alternate, so the one handed out
    /// stays intact until the next call (after the host's Advance) and the steady state allocates none.
    /// </summary>
    public List<Message> TakeMessages()
    {
        FlushBroadcast();
        (_messages, _messagesSpare) = (_messagesSpare, _messages);
        _messages.Clear();
        return _messagesSpare;
    }

    public List<ReadState> TakeReadStates()
    {
        (_readStates, _readStatesSpare) = (_readStatesSpare, _readStates);
        _readStates.Clear();
        return _readStatesSpare;
    }

    private void Send(Message m)
    {
        Debug.Assert(m.To != Id, "sending to self");
        _messages.Add(m with { From = Id, Term = m.Term == 0 ? Term : m.Term });
    }

    // ---- Roles (paper Figure 4) ----

    private void Reset(ulong term)
    {
        if (Term != term)
        {
            Term = term;
            Vote = 0;
        }
        Lead = 0;
        _electionElapsed = 0;
        _heartbeatElapsed = 0;
        ResetRandomizedElectionTimeout();
        AbortLeaderTransfer();
        // A removal of this server that was pending when it stopped leading may be truncated by the next leader; a
        // leader that still finds itself removed in its log sets it again (ApplyLatestConfig).
        _selfRemovalIndex = 0;
        _timeoutNowSent = false;
        Tracker.ResetVotes();
        ResetReadOnly();
        _broadcastPending = false;
    }

    /// <summary>
    /// Draws the next election timeout from [ElectionTick + 1, 2 × ElectionTick] (paper §5.2), or takes the bottom of
    /// that range when <see cref="RaftConfig.RandomizedElectionTimeout"/> is off.
    /// </summary>
    /// <remarks>
    /// One tick above the lease, not [ElectionTick, 2 × ElectionTick): members count ticks on clocks of their own,
    /// up to a tick apart. A follower whose timeout was ElectionTick ticks after the leader's last message could
    /// ask for a pre-vote while another follower, having counted one tick fewer since the same message, still
    /// heard from the leader within its election timeout and refused it (thesis §9.6). When that other follower
    /// had the shorter log, the first one's pre-vote was its only way to a leader, and the election waited for a
    /// second timeout (docs/benchmarks.md, "Test notes").
    /// </remarks>
    private void ResetRandomizedElectionTimeout() =>
        _randomizedElectionTimeout = _electionTimeout + 1 + (_config.RandomizedElectionTimeout ? _random.Next(_electionTimeout) : 0);

    public void BecomeFollower(ulong term, ulong lead)
    {
        Reset(term);
        Lead = lead;
        Role = StateRole.Follower;
    }

    private void BecomePreCandidate()
    {
        Debug.Assert(Role != StateRole.Leader, "leader cannot become pre-candidate");
        // PreVote changes neither term nor vote (thesis §9.6).
        Tracker.ResetVotes();
        Lead = 0;
        Role = StateRole.PreCandidate;
    }

    private void BecomeCandidate()
    {
        Debug.Assert(Role != StateRole.Leader, "leader cannot become candidate");
        Reset(Term + 1);
        Vote = Id;
        Role = StateRole.Candidate;
    }

    private void BecomeLeader()
    {
        Debug.Assert(Role != StateRole.Follower, "follower cannot become leader without an election");
        Reset(Term);
        Lead = Id;
        Role = StateRole.Leader;
        var last = Log.LastIndex;
        foreach (var (id, pr) in Tracker.Progress)
        {
            pr.ResetForNewLeader(last + 1, id == Id ? Log.PersistedLastIndex : 0);
            if (id == Id)
                pr.BecomeReplicate();
        }
        // Conservatively no configuration change until the no-op commits (thesis §4.1 errata).
        _pendingConfIndex = last;
        // Elected while its own removal is pending: it leads until the removal commits, then steps down (§4.2.2).
        if (!Config.IsVoter(Id))
            _selfRemovalIndex = _configs[^1].Index;
        // The no-op of the new term lets the leader commit everything before it (paper §5.4.2, thesis §6.4).
        AppendEntries([new Entry(0, 0, ReadOnlyMemory<byte>.Empty)]);
    }

    // ---- Time ----

    public void Tick()
    {
        _ticksSinceStart++;
        if (Role == StateRole.Leader)
            TickHeartbeat();
        else
            TickElection();
    }

    private void TickElection()
    {
        _electionElapsed++;
        if (Promotable && _electionElapsed >= _randomizedElectionTimeout)
        {
            _electionElapsed = 0;
            Hup(transfer: false);
        }
    }

    private void TickHeartbeat()
    {
        _leaderTicks++;
        _heartbeatElapsed++;
        _electionElapsed++;
        if (_electionElapsed >= _electionTimeout)
        {
            _electionElapsed = 0;
            if (_config.CheckQuorum)
            {
                CheckQuorum();
                if (Role != StateRole.Leader)
                    return;
            }
            // A transfer that did not finish within an election timeout is abandoned (thesis §3.10).
            AbortLeaderTransfer();
        }
        if (_heartbeatElapsed >= _heartbeatTimeout)
        {
            _heartbeatElapsed = 0;
            BroadcastHeartbeat(NextHeartbeatRound());
        }
    }

    /// <summary>
    /// CheckQuorum (thesis §6.2): a leader that has not heard from a majority within an election
    /// timeout steps down, so a partitioned leader stops accepting requests it cannot commit.
    /// </summary>
    private void CheckQuorum()
    {
        if (!Tracker.QuorumActive(Id))
        {
            BecomeFollower(Term, 0);
            return;
        }
        foreach (var (id, pr) in Tracker.Progress)
        {
            if (id != Id)
                pr.RecentActive = false;
        }
    }
}
