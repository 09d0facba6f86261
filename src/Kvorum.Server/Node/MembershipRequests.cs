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
    /// or null when it may: removing an unknown member, removing the last voter (no voter would be left to commit
    /// anything: the core refuses it too, and this gives etcd's answer), promoting a voter, adding a learner that is
    /// a member already.
    /// </summary>
    public static EtcdException? Refusal(ConfChange change, MemberTable members, ConfState config)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(config);
        var known = members.TryGet(change.NodeId, out var member);
        return change.Type switch
        {
            ConfChangeType.RemoveNode when !known => new EtcdException(EtcdErrors.MemberNotFound),
            ConfChangeType.RemoveNode when config.IsVoter(change.NodeId) && config.Voters.Length == 1 => new EtcdException(EtcdErrors.NotEnoughStartedMembers),
            ConfChangeType.AddVoter when known && !member.IsLearner => new EtcdException(EtcdErrors.CanOnlyPromoteLearner),
            ConfChangeType.AddLearner when known => new EtcdException(EtcdErrors.MemberIdAlreadyExists),
            _ => null,
        };
    }

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
