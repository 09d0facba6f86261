using Kvorum.Etcd.Errors;
using Kvorum.Raft;

namespace Kvorum.Server.Node;

/// <summary>
/// etcd 3.4's strict reconfiguration check (<c>--strict-reconfig-check</c>, on by default): the member asked for a
/// membership change refuses it at once, before proposing it, when the change could leave the cluster without a
/// quorum, judged from what that member sees. Its rules, as etcd's <c>mayAddMember</c>, <c>mayRemoveMember</c> and
/// <c>mayPromoteMember</c> have them:
/// <list type="bullet">
/// <item>Adding a member, voter or learner: every voter must have been connected to the member asked for more than
/// <see cref="HealthInterval"/>, else <see cref="EtcdErrors.Unhealthy"/>. A learner is not exempt: etcd 3.4 spares it
/// only the count of started voters below.</item>
/// <item>Adding a voter: the voters that have started (published their name) must be a quorum of the voters with the
/// new one, else <see cref="EtcdErrors.NotEnoughStartedMembers"/>; a one-voter cluster may always grow to two.</item>
/// <item>Promoting a learner: the started voters, plus the learner, must be a quorum of the voters it makes. Judged
/// by the leader, after <see cref="LearnerReadiness"/>: a follower hands promotions to it, as etcd's does.</item>
/// <item>Removing a voter: the started voters left must be a quorum of those left; then, unless the removed voter is
/// another member not connected at all (a dead member is safe to remove), the voters connected for more than
/// <see cref="HealthInterval"/>, less one, must be a quorum of those left, else <see cref="EtcdErrors.Unhealthy"/>.
/// Removing a learner is never refused.</item>
/// </list>
/// </summary>
/// <remarks>
/// "Connected" is etcd's <c>ActiveSince</c>: since when this member's stream to the peer has been up without a break
/// (<see cref="Transport.IPeerTransport.ConnectedFor"/>). It is read on the member asked, leader or follower, as etcd
/// reads it, so that a member cut off from the others refuses at once instead of proposing into a cluster with no
/// leader. Every member keeps a stream to every peer (as etcd's transport does), whatever its role, so a follower
/// sees the others as well as the leader does; the leader's Raft progress (RecentActive) would be no better a
/// judge, and followers have none.
/// </remarks>
internal static class StrictReconfigCheck
{
    /// <summary>How long a peer must have been connected to count as active (etcd's <c>HealthInterval</c>).</summary>
    public static readonly TimeSpan HealthInterval = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Why <paramref name="change"/> may not be proposed by member <paramref name="self"/>, or null when it may.
    /// </summary>
    /// <param name="change">The change asked for.</param>
    /// <param name="members">The member table as this member applied it.</param>
    /// <param name="self">This member's id (always connected to itself).</param>
    /// <param name="connectedFor">How long this member's stream to a peer has been up, or null when it is not up.</param>
    public static EtcdException? Refusal(ConfChange change, MemberTable members, ulong self, Func<ulong, TimeSpan?> connectedFor)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentNullException.ThrowIfNull(connectedFor);
        var voters = members.All.Where(m => !m.IsLearner).ToList();
        var known = members.TryGet(change.NodeId, out var target);
        bool Active(ulong id) => id == self || connectedFor(id) > HealthInterval;
        var started = voters.Count(m => m.Name.Length > 0);
        switch (change.Type)
        {
            case ConfChangeType.AddLearner:
                return voters.All(m => Active(m.ID)) ? null : new EtcdException(EtcdErrors.Unhealthy);

            case ConfChangeType.AddVoter when MembershipRequests.IsPromotion(change):
                // Of any id, known or not, learner or voter: etcd counts, then refuses it when it applies it.
                return started + 1 >= Quorum(voters.Count + 1) ? null : new EtcdException(EtcdErrors.NotEnoughStartedMembers);

            case ConfChangeType.AddVoter:
                var growsFromOne = voters.Count == 1 && started == 1;
                if (!growsFromOne && started < Quorum(voters.Count + 1))
                    return new EtcdException(EtcdErrors.NotEnoughStartedMembers);
                return voters.All(m => Active(m.ID)) ? null : new EtcdException(EtcdErrors.Unhealthy);

            case ConfChangeType.RemoveNode when known && target.IsLearner:
                return null;

            case ConfChangeType.RemoveNode:
                var left = voters.Where(m => m.ID != change.NodeId).ToList();
                if (left.Count(m => m.Name.Length > 0) < Quorum(left.Count))
                    return new EtcdException(EtcdErrors.NotEnoughStartedMembers);
                if (change.NodeId != self && connectedFor(change.NodeId) is null)
                    return null;
                // etcd's arithmetic: the active voters less one (the removed voter, counted active or not) against a
                // quorum of the voters less one.
                var active = voters.Count(m => Active(m.ID));
                return active - 1 >= Quorum(voters.Count - 1) ? null : new EtcdException(EtcdErrors.Unhealthy);

            default:
                return null;
        }
    }

    /// <summary>A majority of <paramref name="voters"/>.</summary>
    private static int Quorum(int voters) => voters / 2 + 1;
}
