using Grpc.Core;
using Kvorum.Etcd.Api;

namespace Kvorum.Server.Api;

/// <summary>Watch is planned for a later release; until then it says so clearly.</summary>
internal sealed class WatchService : Watch.WatchBase
{
    public override Task Watch(IAsyncStreamReader<WatchRequest> requestStream, IServerStreamWriter<WatchResponse> responseStream, ServerCallContext context) =>
        throw new RpcException(new Status(StatusCode.Unimplemented, "kvorum: the Watch API is not implemented yet"));
}

/// <summary>Lease is planned for a later release; until then it says so clearly.</summary>
internal sealed class LeaseService : Lease.LeaseBase
{
    private static RpcException NotYet() => new(new Status(StatusCode.Unimplemented, "kvorum: the Lease API is not implemented yet"));

    public override Task<LeaseGrantResponse> LeaseGrant(LeaseGrantRequest request, ServerCallContext context) => throw NotYet();

    public override Task<LeaseRevokeResponse> LeaseRevoke(LeaseRevokeRequest request, ServerCallContext context) => throw NotYet();

    public override Task LeaseKeepAlive(IAsyncStreamReader<LeaseKeepAliveRequest> requestStream, IServerStreamWriter<LeaseKeepAliveResponse> responseStream, ServerCallContext context) => throw NotYet();

    public override Task<LeaseTimeToLiveResponse> LeaseTimeToLive(LeaseTimeToLiveRequest request, ServerCallContext context) => throw NotYet();

    public override Task<LeaseLeasesResponse> LeaseLeases(LeaseLeasesRequest request, ServerCallContext context) => throw NotYet();
}
