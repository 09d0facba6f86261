using Grpc.Core;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Wire = Kvorum.Server.Transport.Wire;

namespace Kvorum.Server.Transport;

/// <summary>
/// The leader's side of promotion forwarding, on the peer port: a follower's promotion (<see cref="LeaderForwarder"/>),
/// judged and proposed by this member (<see cref="IMembershipLeader"/>), as etcd's leader answers
/// <c>POST /members/promote/&lt;id&gt;</c> on its peer port. Refusals go back with their etcd status and text. Another
/// cluster's calls are refused with FailedPrecondition. Thread-safe.
/// </summary>
internal sealed class MembershipPeerService(ulong clusterId, IMembershipLeader leader) : Wire.MembershipPeer.MembershipPeerBase
{
    /// <inheritdoc />
    public override async Task<MemberPromoteResponse> Promote(Wire.PromoteForward request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        ClusterMismatch.ThrowIfOther(request.ClusterId, clusterId);
        try
        {
            // The follower asked answers its client with its own header: only the member table travels.
            var response = new MemberPromoteResponse();
            response.Members.AddRange(await leader.PromoteForwardedAsync(request.Id, context.CancellationToken).ConfigureAwait(false));
            return response;
        }
        catch (EtcdException e)
        {
            throw EtcdCall.ToRpcException(e.Error);
        }
    }
}
