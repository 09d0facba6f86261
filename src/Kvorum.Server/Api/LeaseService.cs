using Kvorum.Server.Auth;
using Kvorum.Server.Node.Wire;
using Grpc.Core;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Node;

namespace Kvorum.Server.Api;

/// <summary>
/// etcd's Lease service. Grants and revokes go through Raft; keep-alives and time-to-live queries are answered by the
/// leader's lessor (a follower forwards them); the list of leases is this member's own table.
/// </summary>
internal sealed class LeaseService(KvorumNode node) : Kvorum.Etcd.Api.Lease.LeaseBase
{
    /// <inheritdoc />
    public override Task<LeaseGrantResponse> LeaseGrant(LeaseGrantRequest request, ServerCallContext context) =>
        EtcdCall.Run(async () =>
        {
            var response = await node.GrantLeaseAsync(request, context.CancellationToken).ConfigureAwait(false);
            response.Header = ResponseHeaders.Fill(response.Header, node);
            return response;
        });

    /// <inheritdoc />
    public override Task<LeaseRevokeResponse> LeaseRevoke(LeaseRevokeRequest request, ServerCallContext context) =>
        EtcdCall.Run(async () =>
        {
            // Proposed with the caller, since revoking deletes the lease's keys, which needs write permission on each.
            var revoke = new InternalRequest { LeaseRevoke = new LeaseRevokeRequest { ID = request.ID }, Requester = KvorumNode.Requester(CallAuth.Of(context)) };
            var response = await node.ProposeAsync<LeaseRevokeResponse>(revoke, context.CancellationToken).ConfigureAwait(false);
            response.Header = ResponseHeaders.Fill(response.Header, node);
            return response;
        });

    /// <inheritdoc />
    public override Task<LeaseTimeToLiveResponse> LeaseTimeToLive(LeaseTimeToLiveRequest request, ServerCallContext context) =>
        EtcdCall.Run(async () =>
        {
            var response = await node.LeaseTimeToLiveAsync(request.ID, request.Keys, context.CancellationToken).ConfigureAwait(false);
            // The keys' names need read permission on each (Auth/LeaseTimeToLivePermission.cs).
            if (request.Keys)
                LeaseTimeToLivePermission.Check(node.AuthState, CallAuth.Of(context), response);
            response.Header = ResponseHeaders.Fill(response.Header, node);
            return response;
        });

    /// <inheritdoc />
    public override Task<LeaseLeasesResponse> LeaseLeases(LeaseLeasesRequest request, ServerCallContext context) =>
        EtcdCall.Run(async () =>
        {
            var response = new LeaseLeasesResponse();
            foreach (var id in await node.LeaseIdsAsync().ConfigureAwait(false))
                response.Leases.Add(new LeaseStatus { ID = id });
            response.Header = ResponseHeaders.Fill(null, node);
            return response;
        });

    /// <summary>
    /// Answers each keep-alive in turn with this member's header, the lease's id and its granted TTL; an unknown lease
    /// gets TTL 0 and no error, as etcd answers. The stream ends with "no leader" when no leader answers in time, and
    /// with "server stopped" when the member stops (<see cref="KvorumNode.EndClientStreamsAsync"/>).
    /// </summary>
    public override async Task LeaseKeepAlive(IAsyncStreamReader<LeaseKeepAliveRequest> requestStream, IServerStreamWriter<LeaseKeepAliveResponse> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(requestStream);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        node.ClientStreamStarted();
        try
        {
            using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, node.ClientStreamsEnding);
            while (await requestStream.MoveNext(ended.Token).ConfigureAwait(false))
            {
                var id = requestStream.Current.ID;
                var ttl = await node.RenewLeaseAsync(id, context.CancellationToken).ConfigureAwait(false);
                await responseStream.WriteAsync(new LeaseKeepAliveResponse
                {
                    Header = ResponseHeaders.Fill(null, node),
                    ID = id,
                    TTL = Math.Max(0, ttl),
                }).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (node.ClientStreamsEnding.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            throw EtcdCall.ToRpcException(EtcdErrors.ServerStopped);
        }
        catch (EtcdException e)
        {
            throw EtcdCall.ToRpcException(e.Error);
        }
        finally
        {
            node.ClientStreamEnded();
        }
    }
}
