using Grpc.Core;
using Kvorum.Raft;
using Kvorum.Etcd.Api;
using Kvorum.Server.Mvcc;

namespace Kvorum.Server.Node;

/// <summary>Membership changes and leadership transfers asked by clients (the Cluster service, move-leader, shutdown).</summary>
public sealed partial class KvorumNode
{
    // Membership changes proposed here, by (member, change), until applied. Loop thread only.
    private readonly Dictionary<(ulong Node, ConfChangeType Type), TaskCompletionSource<object>> _confChanges = [];

    /// <summary>The member table as this member last applied it.</summary>
    public Task<Member[]> MembersAsync() => QueryAsync(() => _members.All.Select(m => m.Clone()).ToArray());

    /// <summary>Proposes a membership change and waits until it is applied here.</summary>
    public async Task<Member[]> ChangeMembershipAsync(ConfChange change, CancellationToken cancellation)
    {
        var tcs = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        var key = (change.NodeId, change.Type);
        Post(() =>
        {
            var known = _members.TryGet(change.NodeId, out var member);
            if (change.Type == ConfChangeType.RemoveNode && !known)
            {
                tcs.TrySetException(new EtcdException(StatusCode.NotFound, "etcdserver: member not found"));
                return;
            }
            if (change.Type == ConfChangeType.RemoveNode && _raft.Config.IsVoter(change.NodeId) && _raft.Config.Voters.Length == 1)
            {
                // No voter would be left to commit anything (the core refuses it too; this gives etcd's answer).
                tcs.TrySetException(EtcdErrors.NotEnoughStartedMembers());
                return;
            }
            if (change.Type == ConfChangeType.AddVoter && known && !member.IsLearner)
            {
                tcs.TrySetException(new EtcdException(StatusCode.FailedPrecondition, "etcdserver: can only promote a learner member"));
                return;
            }
            if (change.Type == ConfChangeType.AddLearner && known)
            {
                tcs.TrySetException(new EtcdException(StatusCode.FailedPrecondition, "etcdserver: member ID already exist"));
                return;
            }
            var r = _raft.ProposeConfChange(change);
            switch (r.Status)
            {
                case ProposeStatus.Accepted:
                case ProposeStatus.Forwarded:
                    _confChanges[key] = tcs;
                    break;
                case ProposeStatus.ConfChangePending:
                    tcs.TrySetException(new EtcdException(StatusCode.FailedPrecondition, "etcdserver: unhealthy cluster: a membership change is in progress"));
                    break;
                case ProposeStatus.InvalidConfChange:
                    tcs.TrySetException(new EtcdException(StatusCode.FailedPrecondition, "etcdserver: invalid membership change"));
                    break;
                default:
                    tcs.TrySetException(NoLeader());
                    break;
            }
        });
        await WaitAsync(tcs, () => _confChanges.Remove(key), cancellation).ConfigureAwait(false);
        return await MembersAsync().ConfigureAwait(false);
    }

    private void CompleteConfChange(ConfChange cc)
    {
        if (_confChanges.Remove((cc.NodeId, cc.Type), out var tcs))
            tcs.TrySetResult(cc);
    }

    /// <summary>Asks the leader to hand leadership to <paramref name="target"/> and waits until it has (thesis §3.10).</summary>
    public async Task MoveLeaderAsync(ulong target, CancellationToken cancellation)
    {
        var known = await QueryAsync(() => _members.TryGet(target, out _)).ConfigureAwait(false);
        if (!known)
            throw new EtcdException(StatusCode.NotFound, "etcdserver: bad leader transferee");
        var deadline = DateTime.UtcNow + RequestTimeout;
        Post(() => _raft.TransferLeadership(target));
        while (DateTime.UtcNow < deadline)
        {
            if (_status.Leader == target)
                return;
            await Task.Delay(20, cancellation).ConfigureAwait(false);
        }
        throw new EtcdException(StatusCode.DeadlineExceeded, "etcdserver: leadership transfer timed out");
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
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_status.Leader == target)
                return target;
            await Task.Delay(10).ConfigureAwait(false);
        }
        return null;
    }
}
