using Google.Protobuf;
using Google.Protobuf.Collections;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Etcd.Keys;

namespace Kvorum.Etcd.Requests;

/// <summary>
/// etcd's rule that one txn modifies a key at most once: within one list of ops no two puts name
/// the same key and no put falls in a deleted range, counting the ops of nested txns. The success
/// and failure branches of a nested txn exclude each other, so they may put the same key.
/// Two deletes may overlap.
/// </summary>
/// <remarks>
/// As in etcd, a delete whose range end is "\0" (every key from its key on) conflicts with nothing here. etcd puts
/// each delete's [key, range_end) into an interval tree whose only unbounded end is the empty string, so to it
/// [key, "\0") is an empty interval, and it accepts, say, a put of "b" with a delete of every key from "a" on; the
/// store then applies both, in order. Kvorum answers such a txn as etcd does.
/// </remarks>
internal static class TxnKeyConflicts
{
    /// <summary>Checks both branches of <paramref name="request"/>.</summary>
    /// <exception cref="EtcdException">Some key would be modified twice.</exception>
    public static void Check(TxnRequest request)
    {
        Collect(request.Success);
        Collect(request.Failure);
    }

    /// <summary>Checks one list of ops and returns the keys it puts and the ranges it deletes.</summary>
    private static (HashSet<ByteString> Puts, List<KeyRange> Deletes) Collect(RepeatedField<RequestOp> ops)
    {
        var deletes = new List<KeyRange>();
        foreach (var op in ops)
        {
            if (op.RequestCase == RequestOp.RequestOneofCase.RequestDeleteRange && !IsFromKey(op.RequestDeleteRange.RangeEnd))
                deletes.Add(KeyRange.FromRequest(op.RequestDeleteRange.Key, op.RequestDeleteRange.RangeEnd));
        }

        var puts = new HashSet<ByteString>();
        foreach (var op in ops)
        {
            if (op.RequestCase != RequestOp.RequestOneofCase.RequestTxn)
                continue;
            (var putsThen, var deletesThen) = Collect(op.RequestTxn.Success);
            (var putsElse, var deletesElse) = Collect(op.RequestTxn.Failure);
            foreach (var key in putsThen)
            {
                if (puts.Contains(key) || IsDeleted(deletes, key))
                    throw new EtcdException(EtcdErrors.DuplicateKey);
                puts.Add(key);
            }
            foreach (var key in putsElse)
            {
                if (puts.Contains(key) && !putsThen.Contains(key))
                    throw new EtcdException(EtcdErrors.DuplicateKey);
                if (IsDeleted(deletes, key))
                    throw new EtcdException(EtcdErrors.DuplicateKey);
                puts.Add(key);
            }
            deletes.AddRange(deletesThen);
            deletes.AddRange(deletesElse);
        }

        foreach (var op in ops)
        {
            if (op.RequestCase != RequestOp.RequestOneofCase.RequestPut)
                continue;
            var key = op.RequestPut.Key;
            if (puts.Contains(key) || IsDeleted(deletes, key))
                throw new EtcdException(EtcdErrors.DuplicateKey);
            puts.Add(key);
        }
        return (puts, deletes);
    }

    private static bool IsFromKey(ByteString rangeEnd) => rangeEnd.Length == 1 && rangeEnd[0] == 0;

    private static bool IsDeleted(List<KeyRange> deletes, ByteString key)
    {
        foreach (var range in deletes)
        {
            if (range.Contains(key.Span))
                return true;
        }
        return false;
    }
}
