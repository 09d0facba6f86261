using Kvorum.Etcd.Api;

namespace Kvorum.Server.Transport;

/// <summary>
/// What <see cref="MembershipPeerService"/> asks of the member when a follower forwards a promotion to it: only the
/// leader's Raft progress says whether the learner is in sync. Implemented by the node.
/// </summary>
internal interface IMembershipLeader
{
    /// <summary>Promotes member <paramref name="id"/> here, without forwarding it again, and waits until it is applied here.</summary>
    /// <returns>The member table once the promotion is applied here.</returns>
    /// <exception cref="Etcd.Errors.EtcdException">This member does not lead, or the promotion was refused or failed.</exception>
    Task<Member[]> PromoteForwardedAsync(ulong id, CancellationToken cancellation);
}
