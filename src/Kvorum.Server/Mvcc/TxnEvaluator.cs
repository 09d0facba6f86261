using Kvorum.Etcd.Api;
using Kvorum.Etcd.Keys;

namespace Kvorum.Server.Mvcc;

/// <summary>
/// Decides which branches a txn takes. As in etcd, every compare of the txn and of the nested
/// txns on the chosen branches is evaluated against the store as it was before the txn began,
/// so a nested txn's compares do not see the writes of its parent.
/// </summary>
internal static class TxnEvaluator
{
    /// <summary>
    /// The branch decisions of <paramref name="request"/> in the order the txn meets them: its own
    /// result first, then, depth first, the result of each nested txn on the chosen branch.
    /// </summary>
    /// <param name="index">The keys.</param>
    /// <param name="revision">The revision the compares read at.</param>
    /// <param name="request">The txn.</param>
    /// <returns>One entry per txn executed; true means success.</returns>
    public static List<bool> ChoosePath(KeyIndex index, long revision, TxnRequest request)
    {
        var path = new List<bool>();
        AppendPath(index, revision, request, path);
        return path;
    }

    private static void AppendPath(KeyIndex index, long revision, TxnRequest request, List<bool> path)
    {
        var succeeded = true;
        foreach (var compare in request.Compare)
        {
            if (!Holds(index, revision, compare))
            {
                succeeded = false;
                break;
            }
        }
        path.Add(succeeded);
        foreach (var op in succeeded ? request.Success : request.Failure)
        {
            if (op.RequestCase == RequestOp.RequestOneofCase.RequestTxn)
                AppendPath(index, revision, op.RequestTxn, path);
        }
    }

    /// <summary>
    /// Whether <paramref name="compare"/> holds at <paramref name="revision"/>: for every live key in
    /// its range, or, when there is none, for an absent key (version, revisions and lease 0). A
    /// VALUE compare on absent keys always fails, as in etcd.
    /// </summary>
    /// <param name="index">The keys.</param>
    /// <param name="revision">The revision to read at.</param>
    /// <param name="compare">The comparison.</param>
    /// <returns>True when the comparison holds.</returns>
    public static bool Holds(KeyIndex index, long revision, Compare compare)
    {
        var any = false;
        foreach (var history in index.Scan(KeyRange.FromRequest(compare.Key, compare.RangeEnd)))
        {
            var version = history.At(revision);
            if (version is null)
                continue;
            any = true;
            if (!Satisfies(compare, version))
                return false;
        }
        if (any)
            return true;
        return compare.Target != Compare.Types.CompareTarget.Value && Satisfies(compare, null);
    }

    private static bool Satisfies(Compare compare, KeyVersion? version)
    {
        // A target_union that does not match the target reads as zero or empty, as in etcd.
        var order = compare.Target switch
        {
            Compare.Types.CompareTarget.Version => (version?.Version ?? 0).CompareTo(compare.Version),
            Compare.Types.CompareTarget.Create => (version?.CreateRevision ?? 0).CompareTo(compare.CreateRevision),
            Compare.Types.CompareTarget.Mod => (version?.Revision.Main ?? 0).CompareTo(compare.ModRevision),
            Compare.Types.CompareTarget.Lease => (version?.Lease ?? 0).CompareTo(compare.Lease),
            Compare.Types.CompareTarget.Value => ByteKeyComparer.Compare(version is { } v ? v.ValueSpan : [], compare.Value.Span),
            _ => throw new ArgumentOutOfRangeException(nameof(compare), compare.Target, "Unknown compare target."),
        };
        return compare.Result switch
        {
            Compare.Types.CompareResult.Equal => order == 0,
            Compare.Types.CompareResult.NotEqual => order != 0,
            Compare.Types.CompareResult.Greater => order > 0,
            Compare.Types.CompareResult.Less => order < 0,
            _ => false,
        };
    }
}
