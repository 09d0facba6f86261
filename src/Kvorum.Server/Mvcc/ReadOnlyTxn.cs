using Kvorum.Etcd.Api;

namespace Kvorum.Server.Mvcc;

/// <summary>
/// Txns that only read, which etcd answers like range reads instead of replicating them: through a read
/// index, or from local state when every range in them is serializable. A read-only txn changes nothing,
/// not even the revision, whichever branch its compares choose.
/// </summary>
internal static class ReadOnlyTxn
{
    /// <summary>
    /// True when every op on either branch is a range. As etcd's isTxnReadonly, a nested txn counts as a write even
    /// if it only reads: such a txn is proposed through Raft, held to the request size limit and the NOSPACE alarm.
    /// </summary>
    public static bool IsReadOnly(TxnRequest request) => EveryRange(request, _ => true);

    /// <summary>True when every op on either branch is a serializable range.</summary>
    public static bool IsSerializable(TxnRequest request) => EveryRange(request, range => range.Serializable);

    /// <summary>True when every op on both branches is a range that <paramref name="holds"/>.</summary>
    private static bool EveryRange(TxnRequest request, Func<RangeRequest, bool> holds)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Success.All(Op) && request.Failure.All(Op);

        bool Op(RequestOp op) => op.RequestCase == RequestOp.RequestOneofCase.RequestRange && holds(op.RequestRange);
    }
}
