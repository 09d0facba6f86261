using Grpc.Core;
using Grpc.Core.Interceptors;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Node;

namespace Kvorum.Server.Api;

/// <summary>
/// etcd's rule for learners (<c>v3rpc/interceptor.go</c>): a learner is not yet a full member — it does not vote, and
/// its copy may be far behind — so of etcd's client calls it serves only <c>Status</c>, a serializable <c>Range</c>
/// (which promises no freshness) and the <c>Snapshot</c> stream — and, beyond etcd, <c>HashKV</c>, so that whether a
/// learner's copy agrees with the voters' can be checked before it is promoted (the lab's check does). Anything else fails with
/// <c>etcdserver: rpc not supported for learner</c> (Unavailable, so that clients try another endpoint). Kvorum's own
/// services (the peer transport, lease forwarding) are left alone. The check is made when a call starts: a stream that
/// began before the member became a learner is not ended.
/// </summary>
internal sealed class LearnerInterceptor(KvorumNode node) : Interceptor
{
    private const string SnapshotMethod = "/etcdserverpb.Maintenance/Snapshot";

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        ArgumentNullException.ThrowIfNull(context);
        if (node.Status.IsLearner && IsEtcds(context.Method) && !ServedByLearner(request))
            throw EtcdCall.ToRpcException(EtcdErrors.NotSupportedForLearner);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        CheckStream(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        CheckStream(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        CheckStream(context);
        return continuation(requestStream, responseStream, context);
    }

    private void CheckStream(ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (node.Status.IsLearner && IsEtcds(context.Method) && !string.Equals(context.Method, SnapshotMethod, StringComparison.Ordinal))
            throw EtcdCall.ToRpcException(EtcdErrors.NotSupportedForLearner);
    }

    /// <summary>Whether <paramref name="method"/> belongs to etcd's client API (KV, Watch, Lease, Cluster, Maintenance, Auth, Lock, Election).</summary>
    private static bool IsEtcds(string method) =>
        method.StartsWith("/etcdserverpb.", StringComparison.Ordinal)
        || method.StartsWith("/v3lockpb.", StringComparison.Ordinal)
        || method.StartsWith("/v3electionpb.", StringComparison.Ordinal);

    private static bool ServedByLearner<TRequest>(TRequest request) => request switch
    {
        StatusRequest or HashKVRequest => true,
        RangeRequest range => range.Serializable,
        _ => false,
    };
}
