using Kvorum.Etcd.Api;

namespace Kvorum.Server.Transport;

/// <summary>
/// What <see cref="LeasePeerService"/> asks of the member when a follower forwards a lease keep-alive or time-to-live
/// query to it: only a leader's lessor knows the deadlines. Implemented by the node; a member that is not (or no
/// longer) leader fails the call, and the follower asks again whoever leads by then.
/// </summary>
internal interface ILeaseLeader
{
    /// <summary>Renews lease <paramref name="id"/> here, without forwarding it again.</summary>
    /// <returns>The granted TTL, or -1 when the lease is unknown.</returns>
    /// <exception cref="Etcd.Errors.EtcdException">This member is not the leader, or not ready to renew yet.</exception>
    Task<long> RenewForwardedAsync(long id, CancellationToken cancellation);

    /// <summary>Lease <paramref name="id"/>'s time to live here, without forwarding it again.</summary>
    /// <exception cref="Etcd.Errors.EtcdException">This member is not the leader, or not ready to answer yet.</exception>
    Task<LeaseTimeToLiveResponse> TimeToLiveForwardedAsync(long id, bool keys, CancellationToken cancellation);
}
