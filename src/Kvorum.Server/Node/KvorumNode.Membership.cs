using System.Diagnostics;
using Kvorum.Raft;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;

namespace Kvorum.Server.Node;

/// <summary>Membership changes and leadership transfers asked by clients (the Cluster service, move-leader, shutdown).</summary>
internal sealed partial class KvorumNode
{
    /// <summary>The member table as this member last applied it.</summary>
    public Task<Member[]> MembersAsync() => QueryAsync(CopyOfMembers);

    /// <summary>
    /// The member table for MemberList: as this member last applied it, or, when <paramref name="linearizable"/>
    /// (etcd 3.5's clients ask for that by default), once this member has applied everything committed when the call
    /// came, as a linearizable range read waits. Without that wait a follower that had not yet applied a promotion the
    /// leader had already answered listed the member as a learner still.
    /// </summary>
    public Task<Member[]> MembersAsync(bool linearizable, CancellationToken cancellation) =>
        linearizable ? ReadAsync(CopyOfMembers, serializable: false, cancellation) : MembersAsync();

    private Member[] CopyOfMembers() => [.. _state.Members.All.Select(m => m.Clone())];

    /// <summary>
    /// Proposes a membership change, an add or a removal, and waits until it is applied here (checked first:
    /// <see cref="StrictReconfigCheck"/> unless turned off, then <see cref="MembershipRequests.Refusal"/>, etcd's order);
    /// without a leader, it waits for one up to the request timeout, as a write does. Promotions are the leader's to
    /// judge: <see cref="PromoteMemberAsync"/>.
    /// </summary>
    public async Task<Member[]> ChangeMembershipAsync(ConfChange change, CancellationToken cancellation)
    {
        var tcs = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrivedAt = Stopwatch.GetTimestamp();
        Post(() =>
        {
            // As etcd: checked once, here, by the member asked (the refusal goes straight back to its client), before
            // the change is proposed or forwarded; a change that then waits for a leader is not checked again.
            if (_options.StrictReconfigCheck && StrictReconfigCheck.Refusal(change, _state.Members, MemberId, ConnectedFor) is { } unsafeChange)
                tcs.TrySetException(unsafeChange);
            else
                _membership.Propose(change, tcs, _state.Members, _raft.Config, c => _raft.ProposeConfChange(c).Status, arrivedAt);
        });
        await WaitAsync(tcs, () => _membership.Forget(change), cancellation).ConfigureAwait(false);
        return await MembersAsync().ConfigureAwait(false);
    }

    /// <summary>On the loop: how long this member's stream to <paramref name="peer"/> has been up, or null when it is not.</summary>
    private TimeSpan? ConnectedFor(ulong peer) => _transport?.ConnectedFor(peer);

    /// <summary>Asks the leader to hand leadership to <paramref name="target"/> and waits until it has (thesis §3.10).</summary>
    public async Task MoveLeaderAsync(ulong target, CancellationToken cancellation)
    {
        // As etcd: a learner can no more lead than a stranger can.
        var voter = await QueryAsync(() => _state.Members.TryGet(target, out var m) && !m.IsLearner).ConfigureAwait(false);
        if (!voter)
            throw new EtcdException(EtcdErrors.BadLeaderTransferee);
        var deadline = DateTime.UtcNow + RequestTimeout;
        Post(() => _raft.TransferLeadership(target));
        if (!await LeaderBecomesAsync(target, deadline, 20, cancellation).ConfigureAwait(false))
            throw new EtcdException(EtcdErrors.LeadershipTransferTimedOut);
    }

    /// <summary>
    /// Before a clean shutdown, hands leadership to the most caught-up voter (as etcd does), so the cluster
    /// does not spend an election timeout noticing the leader is gone. Returns the new leader, or null when
    /// this member did not lead, leads alone, or the transfer did not finish within <paramref name="timeout"/>.
    /// </summary>
    public async Task<ulong?> TransferLeadershipForShutdownAsync(TimeSpan timeout)
    {
        var target = await QueryAsync(() =>
        {
            if (_raft.Role != StateRole.Leader)
                return 0UL;
            var status = _raft.Status;
            return status.Progress
                .Where(p => p.Key != MemberId && status.Config.Voters.Contains(p.Key))
                .OrderByDescending(p => p.Value.Match)
                .Select(p => p.Key)
                .FirstOrDefault();
        }).ConfigureAwait(false);
        if (target == 0)
            return null;
        Post(() => _raft.TransferLeadership(target));
        return await LeaderBecomesAsync(target, DateTime.UtcNow + timeout, 10, CancellationToken.None).ConfigureAwait(false) ? target : null;
    }

    /// <summary>Whether the published status names <paramref name="target"/> leader before <paramref name="deadline"/>, looking every <paramref name="pollMs"/>.</summary>
    private async Task<bool> LeaderBecomesAsync(ulong target, DateTime deadline, int pollMs, CancellationToken cancellation)
    {
        while (DateTime.UtcNow < deadline)
        {
            if (_status.Leader == target)
                return true;
            await Task.Delay(pollMs, cancellation).ConfigureAwait(false);
        }
        return false;
    }
}
