using System.Diagnostics;
using Grpc.Core;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Raft;
using Kvorum.Server.Transport;

namespace Kvorum.Server.Node;

/// <summary>
/// Promotions of learners, as etcd 3.4's <c>PromoteMember</c> makes them: the leader alone judges whether the learner
/// is in sync (<see cref="LearnerReadiness"/>), so a member that does not lead hands the promotion to the leader over
/// the peer port (<see cref="LeaderForwarder.PromoteAsync"/>, answered by <see cref="MembershipPeerService"/>) and
/// passes on its answer. On the leader the checks come in etcd's order: in sync, then the strict reconfiguration
/// check (<see cref="StrictReconfigCheck"/>, the leader's), then the member table's
/// (<see cref="MembershipRequests.Refusal"/>).
/// </summary>
internal sealed partial class KvorumNode : IMembershipLeader
{
    /// <summary>How long a promotion the leader could not answer (unreachable, or it stopped leading) waits before it is sent again.</summary>
    private static readonly TimeSpan PromotionRetryDelay = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Promotes learner <paramref name="id"/> here when this member leads, else at the leader, and waits until the
    /// promotion is applied (here, or at the leader). As etcd's follower does, it asks the leader again, whoever leads
    /// by then, until the request timeout, unless the leader answers "not in sync", "member not found" or "can only
    /// promote a learner member"; then it fails with "request timed out", or with "no leader" when it never knew one.
    /// </summary>
    /// <returns>The member table once the promotion is applied.</returns>
    /// <exception cref="EtcdException">The promotion was refused or did not finish within the request timeout.</exception>
    public async Task<Member[]> PromoteMemberAsync(ulong id, CancellationToken cancellation)
    {
        var started = Stopwatch.GetTimestamp();
        var knewLeader = false;
        while (true)
        {
            var (waiter, leaderUrls) = await QueryAsync(() => StartPromotionHere(id)).WaitAsync(cancellation).ConfigureAwait(false);
            if (waiter is not null)
                return await PromotedHereAsync(id, waiter, cancellation).ConfigureAwait(false);
            var left = RequestTimeout - Stopwatch.GetElapsedTime(started);
            if (leaderUrls is not null && left > TimeSpan.Zero)
            {
                knewLeader = true;
                try
                {
                    return [.. (await _leaderForwarder.PromoteAsync(leaderUrls, ClusterId, id, left, cancellation).ConfigureAwait(false)).Members];
                }
                catch (RpcException e) when (FinalPromotionAnswers.FirstOrDefault(a => a.Matches(e)) is { } final)
                {
                    throw new EtcdException(final);
                }
                catch (RpcException) when (!cancellation.IsCancellationRequested)
                {
                    // The leader changed, is unreachable, or refused for a reason that may pass: ask again.
                }
            }
            if (Stopwatch.GetElapsedTime(started) >= RequestTimeout)
                throw new EtcdException(knewLeader ? EtcdErrors.TimedOut : EtcdErrors.NoLeader);
            await Task.Delay(PromotionRetryDelay, cancellation).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    async Task<Member[]> IMembershipLeader.PromoteForwardedAsync(ulong id, CancellationToken cancellation)
    {
        var (waiter, _) = await QueryAsync(() => StartPromotionHere(id)).WaitAsync(cancellation).ConfigureAwait(false);
        if (waiter is null)
            throw new EtcdException(EtcdErrors.NotLeader);
        return await PromotedHereAsync(id, waiter, cancellation).ConfigureAwait(false);
    }

    /// <summary>The leader's refusals a follower passes on at once (etcd's <c>PromoteMember</c> stops forwarding on these).</summary>
    private static readonly EtcdError[] FinalPromotionAnswers = [EtcdErrors.LearnerNotReady, EtcdErrors.MemberNotFound, EtcdErrors.CanOnlyPromoteLearner];

    /// <summary>
    /// On the loop: when this member leads, checks the promotion and proposes it, returning the waiter that completes
    /// when it is applied (or fails with the refusal); otherwise returns no waiter, and the leader's peer URLs if a
    /// leader is known.
    /// </summary>
    private (TaskCompletionSource<object>? Waiter, IReadOnlyList<Uri>? LeaderUrls) StartPromotionHere(ulong id)
    {
        var verdict = LearnerReadiness.Judge(id, MemberId, _raft.Status.Progress);
        if (verdict == LearnerReadiness.Verdict.NotLeader)
            return (null, LeaderPeerUrls());
        var waiter = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        var change = new ConfChange(ConfChangeType.AddVoter, id);
        if (verdict == LearnerReadiness.Verdict.NotReady)
            waiter.TrySetException(new EtcdException(EtcdErrors.LearnerNotReady));
        else if (_options.StrictReconfigCheck && StrictReconfigCheck.Refusal(change, _state.Members, MemberId, ConnectedFor) is { } unsafeChange)
            waiter.TrySetException(unsafeChange);
        else
            _membership.Propose(change, waiter, _state.Members, _raft.Config, c => _raft.ProposeConfChange(c).Status, Stopwatch.GetTimestamp());
        return (waiter, null);
    }

    /// <summary>Waits for a promotion started here to be applied here; the member table then.</summary>
    private async Task<Member[]> PromotedHereAsync(ulong id, TaskCompletionSource<object> waiter, CancellationToken cancellation)
    {
        await WaitAsync(waiter, () => _membership.Forget(new ConfChange(ConfChangeType.AddVoter, id)), cancellation).ConfigureAwait(false);
        return await MembersAsync().ConfigureAwait(false);
    }
}
