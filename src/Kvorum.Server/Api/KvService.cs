using Google.Protobuf;
using Grpc.Core;
using Kvorum.Server.Etcd;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Api;

/// <summary>
/// etcd's KV service: reads (ranges, and txns that only read) through ReadIndex, or locally if serializable;
/// writes through Raft.
/// </summary>
internal sealed class KvService(KvorumNode node, ServerOptions options) : KV.KVBase
{
    public override Task<RangeResponse> Range(RangeRequest request, ServerCallContext context) =>
        Answer(() =>
        {
            RequestValidator.Validate(request);
            return node.RangeAsync(request, context.CancellationToken);
        });

    public override Task<PutResponse> Put(PutRequest request, ServerCallContext context) =>
        Replicate<PutResponse>(request, () => RequestValidator.Validate(request), new InternalRequest { Put = request }, context);

    public override Task<DeleteRangeResponse> DeleteRange(DeleteRangeRequest request, ServerCallContext context) =>
        Replicate<DeleteRangeResponse>(request, () => RequestValidator.Validate(request), new InternalRequest { DeleteRange = request }, context);

    public override Task<TxnResponse> Txn(TxnRequest request, ServerCallContext context) =>
        ReadOnlyTxn.IsReadOnly(request)
            ? Answer(() =>
            {
                CheckSize(request);
                RequestValidator.Validate(request);
                return node.ReadOnlyTxnAsync(request, context.CancellationToken);
            })
            : Replicate<TxnResponse>(request, () => RequestValidator.Validate(request), new InternalRequest { Txn = request }, context);

    public override Task<CompactionResponse> Compact(CompactionRequest request, ServerCallContext context) =>
        Replicate<CompactionResponse>(request, () => { }, new InternalRequest { Compaction = request }, context);

    /// <summary>Checks size and validity, replicates the write through Raft, answers with what applying it produced.</summary>
    private Task<T> Replicate<T>(IMessage request, Action validate, InternalRequest wrapped, ServerCallContext context)
        where T : class, IHasResponseHeader =>
        Answer(() =>
        {
            CheckSize(request);
            validate();
            return node.ProposeAsync<T>(wrapped, context.CancellationToken);
        });

    private void CheckSize(IMessage request)
    {
        if (request.CalculateSize() > options.MaxRequestBytes)
            throw new EtcdException(StatusCode.InvalidArgument, "etcdserver: request is too large");
    }

    /// <summary>Runs <paramref name="handler"/>, fills etcd's header, and maps errors to etcd's statuses.</summary>
    private Task<T> Answer<T>(Func<Task<T>> handler)
        where T : IHasResponseHeader =>
        EtcdCall.Run(async () =>
        {
            var response = await handler().ConfigureAwait(false);
            response.Header = ResponseHeaders.Fill(response.Header, node);
            return response;
        });
}
