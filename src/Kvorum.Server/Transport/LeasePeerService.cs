using Grpc.Core;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Wire = Kvorum.Server.Transport.Wire;

namespace Kvorum.Server.Transport;

/// <summary>
/// The leader's side of lease forwarding, on the peer port: a follower's keep-alive and time-to-live queries
/// (<see cref="LeaderForwarder"/>), answered by this member's lessor (<see cref="ILeaseLeader"/>). Another cluster's
/// calls are refused with FailedPrecondition. Thread-safe.
/// </summary>
internal sealed class LeasePeerService(ulong clusterId, ILeaseLeader leader) : Wire.LeasePeer.LeasePeerBase
{
    /// <inheritdoc />
    public override async Task<LeaseKeepAliveResponse> Renew(Wire.LeaseForward request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        CheckCluster(request.ClusterId);
        try
        {
            var ttl = await leader.RenewForwardedAsync(request.Id, context.CancellationToken).ConfigureAwait(false);
            return new LeaseKeepAliveResponse { ID = request.Id, TTL = ttl };
        }
        catch (EtcdException e)
        {
            throw EtcdCall.ToRpcException(e.Error);
        }
    }

    /// <inheritdoc />
    public override async Task<LeaseTimeToLiveResponse> TimeToLive(Wire.LeaseForward request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        CheckCluster(request.ClusterId);
        try
        {
            return await leader.TimeToLiveForwardedAsync(request.Id, request.Keys, context.CancellationToken).ConfigureAwait(false);
        }
        catch (EtcdException e)
        {
            throw EtcdCall.ToRpcException(e.Error);
        }
    }

    private void CheckCluster(ulong theirs) => ClusterMismatch.ThrowIfOther(theirs, clusterId);
}
