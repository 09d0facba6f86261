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
    public static bool IsReadOnly(TxnRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Success.All(IsRead) && request.Failure.All(IsRead);

        static bool IsRead(RequestOp op) => op.RequestCase switch
        {
            RequestOp.RequestOneofCase.RequestRange => true,
            RequestOp.RequestOneofCase.RequestTxn => IsReadOnly(op.RequestTxn),
            _ => false,
        };
    }

    /// <summary>True when every range on either branch (nested txns included) asks for a serializable read.</summary>
    public static bool IsSerializable(TxnRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Success.All(IsSerializableOp) && request.Failure.All(IsSerializableOp);

        static bool IsSerializableOp(RequestOp op) => op.RequestCase switch
        {
            RequestOp.RequestOneofCase.RequestRange => op.RequestRange.Serializable,
            RequestOp.RequestOneofCase.RequestTxn => IsSerializable(op.RequestTxn),
            _ => false,
        };
    }
}
