using Grpc.Core;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;

namespace Kvorum.Server.Api;

/// <summary>Lease is planned for a later release; until then it says so clearly.</summary>
internal sealed class LeaseService : Lease.LeaseBase
{
    private static RpcException NotYet() => EtcdCall.ToRpcException(EtcdErrors.LeaseNotImplemented);

    public override Task<LeaseGrantResponse> LeaseGrant(LeaseGrantRequest request, ServerCallContext context) => throw NotYet();

    public override Task<LeaseRevokeResponse> LeaseRevoke(LeaseRevokeRequest request, ServerCallContext context) => throw NotYet();

    public override Task LeaseKeepAlive(IAsyncStreamReader<LeaseKeepAliveRequest> requestStream, IServerStreamWriter<LeaseKeepAliveResponse> responseStream, ServerCallContext context) => throw NotYet();

    public override Task<LeaseTimeToLiveResponse> LeaseTimeToLive(LeaseTimeToLiveRequest request, ServerCallContext context) => throw NotYet();

    public override Task<LeaseLeasesResponse> LeaseLeases(LeaseLeasesRequest request, ServerCallContext context) => throw NotYet();
}
