using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Raft;

namespace Kvorum.Server.Node;

/// <summary>
/// The membership changes clients asked of this member (the Cluster service's add, remove and promote): the checks a
/// change must pass before it is proposed, with etcd's answers, and the waiter of each change proposed here, by
/// member and kind of change, until the change is applied. The Raft core checks a change again when it takes it, as
/// etcd checks a configuration change when it applies it. A change asked while this member knows no leader waits for
/// one, up to the request timeout, as etcd's proposal does (and as writes do, <see cref="WritesAwaitingLeader"/>).
/// </summary>
/// <remarks>Owned by the member loop (<see cref="LoopOwner"/>). Time is whatever clock the caller passes.</remarks>
internal sealed class MembershipRequests
{
    /// <summary>
    /// etcd's limit on learners at once (fixed in 3.4; <c>--experimental-max-learners</c>, default 1, in 3.5): a
    /// learner is a member catching up before its promotion, and one at a time keeps that catching up from loading
    /// the leader twice.
    /// </summary>
    public const int MaxLearners = 1;

    private readonly Dictionary<(ulong Node, ConfChangeType Type), TaskCompletionSource<object>> _waiting = [];
    private readonly List<AwaitingLeader> _awaitingLeader = [];
    private readonly long _timeout;
    private readonly LoopOwner _owner;

    /// <summary>Creates the table of one member; a test passes no <paramref name="owner"/>.</summary>
    /// <param name="timeout">How long a change may wait for a leader, in the units of the clock passed to <see cref="Propose"/>.</param>
    /// <param name="owner">The loop that owns the table; a test passes none.</param>
    public MembershipRequests(long timeout = long.MaxValue / 4, LoopOwner? owner = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timeout);
        _timeout = timeout;
        _owner = owner ?? new LoopOwner();
    }

    /// <summary>A change waiting for a leader: the change, its client's waiter, and when it arrived.</summary>
    private readonly record struct AwaitingLeader(ConfChange Change, TaskCompletionSource<object> Waiter, long ArrivedAt);

    /// <summary>Changes proposed here and not yet applied.</summary>
    public int Count => _waiting.Count;

    /// <summary>Changes waiting for a leader before they can be proposed.</summary>
    public int AwaitingLeaderCount => _awaitingLeader.Count;

    /// <summary>
    /// Why <paramref name="change"/> may not be proposed, given the applied member table and the core's configuration,
    /// or null when it may. These are the checks etcd 3.4 makes when it applies a change
    /// (<c>ValidateConfigurationChange</c>), in its order, so they come after the strict reconfiguration check and,
    /// for a promotion, after the leader's readiness check, as in etcd: removing or promoting an unknown member,
    /// promoting a voter, adding a member whose peer URL another has (before the id: Kvorum's id comes from the peer
    /// URLs, so a member with these URLs has this id too; etcd's also hashes the second it was asked in, and says
    /// "member ID already exist" only when the same URLs are added twice within a second), adding an id that is a
    /// member, a learner over the limit. Also removing the last voter (no voter would be left to commit anything:
    /// the core refuses it too, and this gives etcd's answer).
    /// </summary>
    public static EtcdException? Refusal(ConfChange change, MemberTable members, ConfState config)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(config);
        var known = members.TryGet(change.NodeId, out var member);
        if (change.Type == ConfChangeType.RemoveNode)
        {
            if (!known)
                return new EtcdException(EtcdErrors.MemberNotFound);
            return config.IsVoter(change.NodeId) && config.Voters.Length == 1 ? new EtcdException(EtcdErrors.NotEnoughStartedMembers) : null;
        }
        if (IsPromotion(change))
        {
            if (!known)
                return new EtcdException(EtcdErrors.MemberNotFound);
            return member.IsLearner ? null : new EtcdException(EtcdErrors.CanOnlyPromoteLearner);
        }
        var added = change.Context.IsEmpty ? new Member() : Member.Parser.ParseFrom(change.Context.Span);
        if (members.All.Any(m => m.PeerURLs.Intersect(added.PeerURLs).Any()))
            return new EtcdException(EtcdErrors.PeerUrlExists);
        if (known)
            return new EtcdException(EtcdErrors.MemberIdAlreadyExists);
        if (change.Type == ConfChangeType.AddLearner && members.All.Count(m => m.IsLearner) + 1 > MaxLearners)
            return new EtcdException(EtcdErrors.TooManyLearners);
        return null;
    }

    /// <summary>
    /// Whether <paramref name="change"/> promotes a learner: an AddVoter without a member record (an add carries the
    /// new member's record as its context).
    /// </summary>
    public static bool IsPromotion(ConfChange change) => change.Type == ConfChangeType.AddVoter && change.Context.IsEmpty;

    /// <summary>
    /// Proposes <paramref name="change"/> with <paramref name="propose"/> unless it is refused (<see cref="Refusal"/>);
    /// <paramref name="waiter"/> completes when the change is applied here (<see cref="Complete"/>), or fails now with
    /// the refusal or with why the core did not take it. A change the core does not take for want of a leader waits
    /// for one (<see cref="ProposeAwaiting"/>, <see cref="Expire"/>), having arrived at <paramref name="now"/>.
    /// </summary>
    public void Propose(ConfChange change, TaskCompletionSource<object> waiter, MemberTable members, ConfState config, Func<ConfChange, ProposeStatus> propose, long now = 0)
    {
        ArgumentNullException.ThrowIfNull(waiter);
        ArgumentNullException.ThrowIfNull(propose);
        _owner.AssertOwned();
        if (Refusal(change, members, config) is { } refusal)
        {
            waiter.TrySetException(refusal);
            return;
        }
        switch (propose(change))
        {
            case ProposeStatus.Accepted:
            case ProposeStatus.Forwarded:
                _waiting[(change.NodeId, change.Type)] = waiter;
                break;
            case ProposeStatus.ConfChangePending:
                waiter.TrySetException(new EtcdException(EtcdErrors.MembershipChangeInProgress));
                break;
            case ProposeStatus.InvalidConfChange:
                waiter.TrySetException(new EtcdException(EtcdErrors.InvalidMembershipChange));
                break;
            case ProposeStatus.NotLeader:
                _awaitingLeader.Add(new AwaitingLeader(change, waiter, now));
                break;
            default:
                waiter.TrySetException(new EtcdException(EtcdErrors.NoLeader));
                break;
        }
    }

    /// <summary>
    /// A leader is known: proposes, in arrival order, the changes that waited for one and whose client still waits
    /// (checked again against the table as it is now); one the core refuses again for want of a leader waits on.
    /// </summary>
    public void ProposeAwaiting(MemberTable members, ConfState config, Func<ConfChange, ProposeStatus> propose)
    {
        _owner.AssertOwned();
        var taken = _awaitingLeader.ToArray();
        _awaitingLeader.Clear();
        foreach (var w in taken)
        {
            if (!w.Waiter.Task.IsCompleted)
                Propose(w.Change, w.Waiter, members, config, propose, w.ArrivedAt);
        }
    }

    /// <summary>
    /// Fails the changes that have waited for a leader for the timeout or more with "request timed out", as etcd's
    /// proposal fails at its deadline, and forgets those whose client gave up.
    /// </summary>
    public void Expire(long now)
    {
        _owner.AssertOwned();
        _awaitingLeader.RemoveAll(w =>
        {
            if (w.Waiter.Task.IsCompleted)
                return true;
            if (w.ArrivedAt + _timeout > now)
                return false;
            w.Waiter.TrySetException(new EtcdException(EtcdErrors.TimedOut));
            return true;
        });
    }

    /// <summary>A change was applied: its waiter, if it was proposed here, gets it.</summary>
    public void Complete(ConfChange applied)
    {
        _owner.AssertOwned();
        if (_waiting.Remove((applied.NodeId, applied.Type), out var waiter))
            waiter.TrySetResult(applied);
    }

    /// <summary>Stops waiting for <paramref name="change"/> (its client gave up); returns whether it waited.</summary>
    public bool Forget(ConfChange change)
    {
        _owner.AssertOwned();
        return _waiting.Remove((change.NodeId, change.Type)) | _awaitingLeader.RemoveAll(w => w.Change == change) > 0;
    }

    /// <summary>Fails every waiting change with <paramref name="error"/> (the member stops).</summary>
    public void FailAll(EtcdException error)
    {
        _owner.AssertOwned();
        foreach (var waiter in _waiting.Values)
            waiter.TrySetException(error);
        _waiting.Clear();
        foreach (var w in _awaitingLeader)
            w.Waiter.TrySetException(error);
        _awaitingLeader.Clear();
    }
}
