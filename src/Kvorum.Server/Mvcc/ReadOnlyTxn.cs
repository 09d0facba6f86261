using Kvorum.Server.Etcd;

namespace Kvorum.Server.Mvcc;

/// <summary>
/// Txns that only read, which etcd answers like range reads instead of replicating them: through a read
/// index, or from local state when every range in them is serializable. A read-only txn changes nothing,
/// not even the revision, whichever branch its compares choose.
/// </summary>
public static class ReadOnlyTxn
{
    /// <summary>True when no op on either branch (nested txns included) writes.</summary>
    public static bool IsReadOnly(TxnRequest request) => EveryRange(request, _ => true);

    /// <summary>True when every op on either branch (nested txns included) is a serializable range.</summary>
    public static bool IsSerializable(TxnRequest request) => EveryRange(request, range => range.Serializable);

    /// <summary>True when every op on both branches, nested txns included, is a range that <paramref name="holds"/>.</summary>
    private static bool EveryRange(TxnRequest request, Func<RangeRequest, bool> holds)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Success.All(Op) && request.Failure.All(Op);

        bool Op(RequestOp op) => op.RequestCase switch
        {
            RequestOp.RequestOneofCase.RequestRange => holds(op.RequestRange),
            RequestOp.RequestOneofCase.RequestTxn => EveryRange(op.RequestTxn, holds),
            _ => false,
        };
    }
}
