using System.Diagnostics;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;

namespace Kvorum.Server.Mvcc;

/// <summary>
/// A read answered again at the store revision its first answer was read at (the revision in that answer's header),
/// for a member that let the first answer go rather than hold it while it waited for room to send it. The store keeps
/// every version back to its last compaction, so while that revision is not compacted the second answer is the first
/// one again, whatever was written since.
/// </summary>
/// <remarks>
/// The request was validated, and its revisions checked against the store, when it was first answered: they are at or
/// below <c>revision</c>. Only the header's revision is set, as in <see cref="MvccStore"/>'s own answers.
/// </remarks>
internal static class RepeatedReads
{
    /// <summary><see cref="MvccStore.Range"/> again, as the store was at <paramref name="revision"/>.</summary>
    /// <exception cref="EtcdException">Compacted: the store has been compacted past what the read needs.</exception>
    public static RangeResponse Range(MvccStore store, RangeRequest request, long revision)
    {
        CheckKept(store, revision);
        return RangeQuery.Execute(store.Index, request, revision, store.CompactRevision);
    }

    /// <summary>
    /// A txn that only reads (<see cref="ReadOnlyTxn.IsReadOnly"/>) again, as the store was at
    /// <paramref name="revision"/>: its compares, then the ranges of the branch they choose.
    /// </summary>
    /// <exception cref="EtcdException">Compacted: the store has been compacted past what the txn needs.</exception>
    public static TxnResponse ReadOnlyTxn(MvccStore store, TxnRequest request, long revision)
    {
        Debug.Assert(Mvcc.ReadOnlyTxn.IsReadOnly(request), "only a txn of ranges is answered again");
        // A compare over a compacted revision would read a history that no longer holds what it held.
        CheckKept(store, revision);
        // A txn of ranges has no nested txn: the path is its own outcome alone.
        var succeeded = TxnEvaluator.ChoosePath(store.Index, revision, request)[0];
        var response = new TxnResponse { Succeeded = succeeded, Header = new ResponseHeader { Revision = revision } };
        foreach (var op in succeeded ? request.Success : request.Failure)
            response.Responses.Add(new ResponseOp { ResponseRange = RangeQuery.Execute(store.Index, op.RequestRange, revision, store.CompactRevision) });
        return response;
    }

    private static void CheckKept(MvccStore store, long revision)
    {
        Debug.Assert(revision <= store.Revision, "a revision once read is never ahead of the store");
        if (revision < store.CompactRevision)
            throw new EtcdException(EtcdErrors.Compacted);
    }
}
