using Google.Protobuf;
using Grpc.Core;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Etcd.Requests;
using Kvorum.Server.Auth;
using Kvorum.Server.Http2;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Api;

/// <summary>
/// etcd's KV service: reads (ranges, and txns that only read) through ReadIndex, or locally if serializable;
/// writes through Raft.
/// </summary>
internal sealed partial class KvService(KvorumNode node, ServerOptions options, UnreadAnswerBudget answers) : KV.KVBase
{
    public override Task<RangeResponse> Range(RangeRequest request, ServerCallContext context) =>
        EtcdCall.Run(() =>
        {
            RequestValidator.Validate(request);
            return WithinBudget(
                request,
                static (node, r, c) => node.RangeAsync(r, c.CancellationToken, CallAuth.Of(c)),
                static (node, r, revision, cancellation) => node.RangeAgainAsync(r, revision, cancellation),
                context);
        });

    public override Task<PutResponse> Put(PutRequest request, ServerCallContext context) =>
        Replicate<PutRequest, PutResponse>(request, static r => RequestValidator.Validate(r), static r => new InternalRequest { Put = r }, context, KvorumNode.QuotaCost);

    public override Task<DeleteRangeResponse> DeleteRange(DeleteRangeRequest request, ServerCallContext context) =>
        Replicate<DeleteRangeRequest, DeleteRangeResponse>(request, static r => RequestValidator.Validate(r), static r => new InternalRequest { DeleteRange = r }, context);

    public override Task<TxnResponse> Txn(TxnRequest request, ServerCallContext context) =>
        ReadOnlyTxn.IsReadOnly(request)
            ? EtcdCall.Run(() =>
            {
                // Not proposed, so not held to the request size limit (as in etcd, whose limit is on Raft proposals).
                RequestValidator.Validate(request);
                return WithinBudget(
                    request,
                    static (node, r, c) => node.ReadOnlyTxnAsync(r, c.CancellationToken, CallAuth.Of(c)),
                    static (node, r, revision, cancellation) => node.ReadOnlyTxnAgainAsync(r, revision, cancellation),
                    context);
            })
            : Replicate<TxnRequest, TxnResponse>(request, static r => RequestValidator.Validate(r), static r => new InternalRequest { Txn = r }, context, KvorumNode.QuotaCost);

    public override Task<CompactionResponse> Compact(CompactionRequest request, ServerCallContext context) =>
        Replicate<CompactionRequest, CompactionResponse>(request, static _ => { }, static r => new InternalRequest { Compaction = r }, context);

    /// <summary>
    /// Checks quota, validity and size, replicates the write through Raft, answers with what applying it produced and
    /// etcd's header. One async method per write, with static delegates, since every put passes here.
    /// </summary>
    private async Task<TResponse> Replicate<TRequest, TResponse>(
        TRequest request, Action<TRequest> validate, Func<TRequest, InternalRequest> wrap, ServerCallContext context,
        Func<TRequest, long>? quotaCost = null)
        where TRequest : IMessage
        where TResponse : class, IHasResponseHeader
    {
        try
        {
            // etcd's order: the quota (its gRPC layer), the request's own checks, the size of the proposal, and last
            // the NOSPACE alarm (which etcd enforces when it applies the proposal).
            var cost = quotaCost?.Invoke(request) ?? 0;
            node.CheckQuota(cost);
            validate(request);
            var proposal = wrap(request);
            // Checked when applied, against the auth state of that point of the log (as etcd).
            proposal.Requester = KvorumNode.Requester(CallAuth.Of(context));
            CheckSize(proposal.CalculateSize() + ProposalIdBytes);
            node.CheckNoSpaceAlarm(cost);
            var response = await node.ProposeAsync<TResponse>(proposal, context.CancellationToken).ConfigureAwait(false);
            response.Header = ResponseHeaders.Fill(response.Header, node);
            return response;
        }
        catch (EtcdException e)
        {
            throw EtcdCall.ToRpcException(e.Error);
        }
    }

    // The proposal's id, set when it is proposed: a tag and a varint of up to 10 bytes. etcd, too, limits the
    // proposal (the request with a header holding its id), so the two refuse requests of the same size.
    private const int ProposalIdBytes = 11;

    private void CheckSize(long proposalBytes)
    {
        if (proposalBytes > options.MaxRequestBytes)
            throw new EtcdException(EtcdErrors.RequestTooLarge);
    }
}
