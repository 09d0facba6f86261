using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;

namespace Kvorum.Etcd.Requests;

/// <summary>
/// The checks etcd makes on a key-value request before it is proposed to Raft, with etcd's
/// errors. The server runs them before proposing, and its MVCC store runs them again on apply.
/// </summary>
internal static class RequestValidator
{
    /// <summary>etcd's default limit on compares, success ops and failure ops of one txn (<c>--max-txn-ops</c>).</summary>
    public const int DefaultMaxTxnOps = 128;

    /// <summary>Checks a range request.</summary>
    /// <exception cref="EtcdException">The key is empty.</exception>
    public static void Validate(RangeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Key.IsEmpty)
            throw new EtcdException(EtcdErrors.EmptyKey);
    }

    /// <summary>Checks a put request.</summary>
    /// <exception cref="EtcdException">The key is empty, or ignore_value/ignore_lease come with a value/lease.</exception>
    public static void Validate(PutRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Key.IsEmpty)
            throw new EtcdException(EtcdErrors.EmptyKey);
        if (request.IgnoreValue && !request.Value.IsEmpty)
            throw new EtcdException(EtcdErrors.ValueProvided);
        if (request.IgnoreLease && request.Lease != 0)
            throw new EtcdException(EtcdErrors.LeaseProvided);
    }

    /// <summary>Checks a delete request.</summary>
    /// <exception cref="EtcdException">The key is empty.</exception>
    public static void Validate(DeleteRangeRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Key.IsEmpty)
            throw new EtcdException(EtcdErrors.EmptyKey);
    }

    /// <summary>Checks a txn: sizes, keys, every nested op, and that no key is modified twice.</summary>
    /// <param name="request">The request.</param>
    /// <param name="maxTxnOps">The most compares, success ops or failure ops allowed at the top level.</param>
    /// <exception cref="EtcdException">The txn breaks one of etcd's rules.</exception>
    public static void Validate(TxnRequest request, int maxTxnOps = DefaultMaxTxnOps)
    {
        ValidateShape(request, maxTxnOps);
        TxnKeyConflicts.Check(request);
    }

    private static void ValidateShape(TxnRequest request, int maxTxnOps)
    {
        ArgumentNullException.ThrowIfNull(request);
        var opCount = Math.Max(request.Compare.Count, Math.Max(request.Success.Count, request.Failure.Count));
        if (opCount > maxTxnOps)
            throw new EtcdException(EtcdErrors.TooManyOps);
        foreach (var compare in request.Compare)
        {
            if (compare.Key.IsEmpty)
                throw new EtcdException(EtcdErrors.EmptyKey);
        }
        // As etcd does, a nested txn gets what is left of the budget.
        foreach (var op in request.Success)
            ValidateOp(op, maxTxnOps - opCount);
        foreach (var op in request.Failure)
            ValidateOp(op, maxTxnOps - opCount);
    }

    private static void ValidateOp(RequestOp op, int maxTxnOps)
    {
        switch (op.RequestCase)
        {
            case RequestOp.RequestOneofCase.RequestRange:
                Validate(op.RequestRange);
                break;
            case RequestOp.RequestOneofCase.RequestPut:
                Validate(op.RequestPut);
                break;
            case RequestOp.RequestOneofCase.RequestDeleteRange:
                Validate(op.RequestDeleteRange);
                break;
            case RequestOp.RequestOneofCase.RequestTxn:
                ValidateShape(op.RequestTxn, maxTxnOps);
                break;
            default:
                // etcd answers an empty op with "key not found".
                throw new EtcdException(EtcdErrors.KeyNotFound);
        }
    }
}
