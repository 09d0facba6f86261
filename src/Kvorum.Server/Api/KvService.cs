using Google.Protobuf;
using Grpc.Core;
using Kvorum.Server.Etcd;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Api;

/// <summary>etcd's KV service: reads through ReadIndex (or locally if serializable), writes through Raft.</summary>
internal sealed class KvService(KvorumNode node, ServerOptions options) : KV.KVBase
{
    public override Task<RangeResponse> Range(RangeRequest request, ServerCallContext context) =>
        EtcdCall.Run(async () =>
        {
            RequestValidator.Validate(request);
            var response = await node.RangeAsync(request, context.CancellationToken).ConfigureAwait(false);
            response.Header = ResponseHeaders.Fill(response.Header, node);
            return response;
        });

    public override Task<PutResponse> Put(PutRequest request, ServerCallContext context) =>
        EtcdCall.Run(async () =>
        {
            CheckSize(request);
            RequestValidator.Validate(request);
            var response = await node.ProposeAsync<PutResponse>(new InternalRequest { Put = request }, context.CancellationToken).ConfigureAwait(false);
            response.Header = ResponseHeaders.Fill(response.Header, node);
            return response;
        });

    public override Task<DeleteRangeResponse> DeleteRange(DeleteRangeRequest request, ServerCallContext context) =>
        EtcdCall.Run(async () =>
        {
            RequestValidator.Validate(request);
            var response = await node.ProposeAsync<DeleteRangeResponse>(new InternalRequest { DeleteRange = request }, context.CancellationToken).ConfigureAwait(false);
            response.Header = ResponseHeaders.Fill(response.Header, node);
            return response;
        });

    public override Task<TxnResponse> Txn(TxnRequest request, ServerCallContext context) =>
        EtcdCall.Run(async () =>
        {
            CheckSize(request);
            RequestValidator.Validate(request);
            var response = await node.ProposeAsync<TxnResponse>(new InternalRequest { Txn = request }, context.CancellationToken).ConfigureAwait(false);
            response.Header = ResponseHeaders.Fill(response.Header, node);
            return response;
        });

    public override Task<CompactionResponse> Compact(CompactionRequest request, ServerCallContext context) =>
        EtcdCall.Run(async () =>
        {
            var response = await node.ProposeAsync<CompactionResponse>(new InternalRequest { Compaction = request }, context.CancellationToken).ConfigureAwait(false);
            response.Header = ResponseHeaders.Fill(response.Header, node);
            return response;
        });

    private void CheckSize(IMessage request)
    {
        if (request.CalculateSize() > options.MaxRequestBytes)
            throw new EtcdException(StatusCode.InvalidArgument, "etcdserver: request is too large");
    }
}
