using Kvorum.Etcd.Errors;
using Kvorum.Raft;

namespace Kvorum.Server.Node;

/// <summary>
/// The membership changes clients asked of this member (the Cluster service's add, remove and promote): the checks a
/// change must pass before it is proposed, with etcd's answers, and the waiter of each change proposed here, by
/// member and kind of change, until the change is applied. The Raft core checks a change again when it takes it, as
/// etcd checks a configuration change when it applies it.
/// </summary>
/// <remarks>Owned by the member loop (<see cref="LoopOwner"/>).</remarks>
internal sealed class MembershipRequests
{
    private readonly Dictionary<(ulong Node, ConfChangeType Type), TaskCompletionSource<object>> _waiting = [];
    private readonly LoopOwner _owner;

    /// <summary>Creates the table of one member; a test passes no <paramref name="owner"/>.</summary>
    public MembershipRequests(LoopOwner? owner = null) => _owner = owner ?? new LoopOwner();

    /// <summary>Changes proposed here and not yet applied.</summary>
    public int Count => _waiting.Count;

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
    /// the refusal or with why the core did not take it.
    /// </summary>
    public void Propose(ConfChange change, TaskCompletionSource<object> waiter, MemberTable members, ConfState config, Func<ConfChange, ProposeStatus> propose)
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
            default:
                waiter.TrySetException(new EtcdException(EtcdErrors.NoLeader));
                break;
        }
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
        return _waiting.Remove((change.NodeId, change.Type));
    }

    /// <summary>Fails every waiting change with <paramref name="error"/> (the member stops).</summary>
    public void FailAll(EtcdException error)
    {
        _owner.AssertOwned();
        foreach (var waiter in _waiting.Values)
            waiter.TrySetException(error);
        _waiting.Clear();
    }
}
