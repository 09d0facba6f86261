using Google.Protobuf;
using Kvorum.Etcd.Api;

namespace Kvorum.Server.Tests.Differential;

/// <summary>
/// Takes out of an answer what may rightly differ between two servers that applied the same requests: the header's
/// cluster id, member id and term, and the order of keys that tie under a sort on something other than the key
/// (etcd sorts with Go's unstable sort), the order of a lease's keys and of the list of leases. Everything else must be
/// equal to the last bit (a lease's remaining seconds are a clock's, compared within a tolerance:
/// <see cref="AlignRemainingTtl"/>).
/// </summary>
internal static class ResponseNormalizer
{
    public static IMessage Normalize(IMessage request, IMessage response)
    {
        var copy = response.Clone();
        Apply(request, copy);
        return copy;
    }

    private static IMessage Clone(this IMessage message)
    {
        var bytes = message.ToByteArray();
        var copy = (IMessage)Activator.CreateInstance(message.GetType())!;
        copy.MergeFrom(bytes);
        return copy;
    }

    private static void Apply(IMessage request, IMessage response)
    {
        switch (request, response)
        {
            case (RangeRequest q, RangeResponse r):
                ClearIdentity(r.Header);
                OrderTies(q, r);
                break;
            case (PutRequest, PutResponse r):
                ClearIdentity(r.Header);
                break;
            case (DeleteRangeRequest, DeleteRangeResponse r):
                ClearIdentity(r.Header);
                break;
            case (CompactionRequest, CompactionResponse r):
                ClearIdentity(r.Header);
                break;
            case (LeaseGrantRequest, LeaseGrantResponse r):
                ClearIdentity(r.Header);
                break;
            case (LeaseRevokeRequest, LeaseRevokeResponse r):
                ClearIdentity(r.Header);
                break;
            case (LeaseKeepAliveRequest, LeaseKeepAliveResponse r):
                ClearIdentity(r.Header);
                break;
            case (LeaseTimeToLiveRequest, LeaseTimeToLiveResponse r):
                // A lease's keys come out of a set in etcd: in no particular order.
                ClearIdentity(r.Header);
                var keys = r.Keys.OrderBy(k => k, KeyOrder).ToList();
                r.Keys.Clear();
                r.Keys.AddRange(keys);
                break;
            case (LeaseLeasesRequest, LeaseLeasesResponse r):
                // etcd lists leases by deadline, which is a clock's: compared as a set.
                ClearIdentity(r.Header);
                var leases = r.Leases.OrderBy(l => l.ID).ToList();
                r.Leases.Clear();
                r.Leases.AddRange(leases);
                break;
            case (TxnRequest q, TxnResponse r):
                ClearIdentity(r.Header);
                var ops = r.Succeeded ? q.Success : q.Failure;
                for (var i = 0; i < r.Responses.Count && i < ops.Count; i++)
                    Apply(Unwrap(ops[i]), Unwrap(r.Responses[i]));
                break;
        }
    }

    /// <summary>
    /// The seconds a lease has left are read off each server's clock at a slightly different moment: when both
    /// answers say the lease exists and differ by at most <paramref name="toleranceSeconds"/>, the compared answer takes
    /// the reference's figure. Its granted TTL, and a -1 (gone), must be exact.
    /// </summary>
    public static IMessage AlignRemainingTtl(IMessage expected, IMessage actual, long toleranceSeconds)
    {
        if (expected is not LeaseTimeToLiveResponse e || actual is not LeaseTimeToLiveResponse a
            || e.TTL < 0 || a.TTL < 0 || Math.Abs(e.TTL - a.TTL) > toleranceSeconds)
        {
            return actual;
        }
        var aligned = a.Clone();
        aligned.TTL = e.TTL;
        return aligned;
    }

    private static IMessage Unwrap(RequestOp op) => op.RequestCase switch
    {
        RequestOp.RequestOneofCase.RequestRange => op.RequestRange,
        RequestOp.RequestOneofCase.RequestPut => op.RequestPut,
        RequestOp.RequestOneofCase.RequestDeleteRange => op.RequestDeleteRange,
        RequestOp.RequestOneofCase.RequestTxn => op.RequestTxn,
        _ => new RangeRequest(),
    };

    private static IMessage Unwrap(ResponseOp op) => op.ResponseCase switch
    {
        ResponseOp.ResponseOneofCase.ResponseRange => op.ResponseRange,
        ResponseOp.ResponseOneofCase.ResponsePut => op.ResponsePut,
        ResponseOp.ResponseOneofCase.ResponseDeleteRange => op.ResponseDeleteRange,
        ResponseOp.ResponseOneofCase.ResponseTxn => op.ResponseTxn,
        _ => new RangeResponse(),
    };

    private static void ClearIdentity(ResponseHeader? header)
    {
        if (header is null)
            return;
        header.ClusterId = 0;
        header.MemberId = 0;
        header.RaftTerm = 0;
    }

    /// <summary>
    /// Under a sort on version, create or mod revision, or value, keys with equal values may come in any order, and a
    /// limit may cut between them: the keys are put in key order within each run of equal values, and when a limit
    /// applied, only the sorted values are kept (which keys of a tie made the cut is the sort's choice).
    /// </summary>
    private static void OrderTies(RangeRequest q, RangeResponse r)
    {
        if (q.SortTarget == RangeRequest.Types.SortTarget.Key || r.Kvs.Count < 2)
            return;
        var items = r.Kvs.ToList();
        var cut = q.Limit > 0 && r.More;
        r.Kvs.Clear();
        for (var start = 0; start < items.Count;)
        {
            var end = start + 1;
            while (end < items.Count && SameSortValue(items[start], items[end], q.SortTarget))
                end++;
            foreach (var kv in items.Skip(start).Take(end - start).OrderBy(kv => kv.Key, KeyOrder))
                r.Kvs.Add(cut ? SortValueOnly(kv, q.SortTarget) : kv);
            start = end;
        }
    }

    private static readonly Comparer<ByteString> KeyOrder = Comparer<ByteString>.Create((a, b) => a.Span.SequenceCompareTo(b.Span));

    private static KeyValue SortValueOnly(KeyValue kv, RangeRequest.Types.SortTarget target) => new()
    {
        Version = target == RangeRequest.Types.SortTarget.Version ? kv.Version : 0,
        CreateRevision = target == RangeRequest.Types.SortTarget.Create ? kv.CreateRevision : 0,
        ModRevision = target == RangeRequest.Types.SortTarget.Mod ? kv.ModRevision : 0,
        Value = target == RangeRequest.Types.SortTarget.Value ? kv.Value : ByteString.Empty,
    };

    private static bool SameSortValue(KeyValue a, KeyValue b, RangeRequest.Types.SortTarget target) => target switch
    {
        RangeRequest.Types.SortTarget.Version => a.Version == b.Version,
        RangeRequest.Types.SortTarget.Create => a.CreateRevision == b.CreateRevision,
        RangeRequest.Types.SortTarget.Mod => a.ModRevision == b.ModRevision,
        _ => a.Value.Equals(b.Value),
    };
}
