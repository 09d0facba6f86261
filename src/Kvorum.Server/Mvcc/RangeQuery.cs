using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Etcd.Keys;

namespace Kvorum.Server.Mvcc;

/// <summary>
/// Answers a <see cref="RangeRequest"/> from a <see cref="KeyIndex"/> the way etcd does: read at a
/// revision, count every live key in the range, drop keys outside the min/max mod and create
/// revisions, sort, cut at the limit and say whether more was left.
/// </summary>
internal static class RangeQuery
{
    /// <summary>Runs <paramref name="request"/> against the store as of <paramref name="currentRevision"/>.</summary>
    /// <param name="index">The keys.</param>
    /// <param name="request">The request.</param>
    /// <param name="currentRevision">The newest revision visible to the reader; reported in the header.</param>
    /// <param name="compactRevision">The last compaction revision; reads before it fail.</param>
    /// <returns>The response, with only the header's revision set.</returns>
    /// <exception cref="EtcdException">The requested revision is in the future or compacted.</exception>
    public static RangeResponse Execute(KeyIndex index, RangeRequest request, long currentRevision, long compactRevision)
    {
        var revision = ResolveRevision(request.Revision, currentRevision, compactRevision);
        var response = new RangeResponse { Header = new ResponseHeader { Revision = currentRevision } };

        // Like etcd, count every live key in the range, but keep only the first limit + 1 keys in key order (one
        // extra to tell "more") unless a sort order or a revision filter is given. Also as etcd does, a sort target
        // without a sort order sorts only those first keys (ascending), not the whole range: etcd decides what to
        // fetch on the order alone, and only then lets a target other than the key imply ascending.
        var keep = int.MaxValue;
        if (request.CountOnly)
            keep = 0;
        else if (request.Limit > 0 && request.Limit < int.MaxValue
            && (request.SortOrder == RangeRequest.Types.SortOrder.None || IsIndexOrder(request)) && !HasRevisionFilters(request))
            keep = (int)request.Limit + 1;

        var matches = new List<(KeyHistory History, KeyVersion Version)>(Math.Min(keep, 64));
        long count = 0;
        foreach (var history in index.Scan(KeyRange.FromRequest(request.Key, request.RangeEnd)))
        {
            if (matches.Count >= keep)
            {
                if (history.ExistsAt(revision))
                    count++;
                continue;
            }
            if (history.At(revision) is { } version)
            {
                count++;
                matches.Add((history, version));
            }
        }
        response.Count = count;
        if (request.CountOnly)
            return response;

        if (HasRevisionFilters(request))
            matches.RemoveAll(match => !PassesFilters(request, match.Version));
        Sort(matches, request.SortTarget, request.SortOrder);

        var take = matches.Count;
        if (request.Limit > 0 && matches.Count > request.Limit)
        {
            take = (int)request.Limit;
            response.More = true;
        }
        for (var i = 0; i < take; i++)
            response.Kvs.Add(matches[i].Version.ToKeyValue(matches[i].History.Key, request.KeysOnly));
        return response;
    }

    /// <summary>
    /// The revision to read at: <paramref name="requested"/>, or the current one when it is not
    /// positive. Checked in etcd's order: future first, then compacted.
    /// </summary>
    /// <exception cref="EtcdException">The revision is in the future or compacted.</exception>
    public static long ResolveRevision(long requested, long currentRevision, long compactRevision)
    {
        if (requested > currentRevision)
            throw new EtcdException(EtcdErrors.FutureRevision);
        var revision = requested <= 0 ? currentRevision : requested;
        if (revision < compactRevision)
            throw new EtcdException(EtcdErrors.Compacted);
        return revision;
    }

    /// <summary>True when the requested order is the index's own: by key, ascending.</summary>
    private static bool IsIndexOrder(RangeRequest request) =>
        request.SortOrder == RangeRequest.Types.SortOrder.None
            ? request.SortTarget == RangeRequest.Types.SortTarget.Key
            : request.SortTarget == RangeRequest.Types.SortTarget.Key && request.SortOrder == RangeRequest.Types.SortOrder.Ascend;

    private static bool HasRevisionFilters(RangeRequest request) =>
        request.MinModRevision != 0 || request.MaxModRevision != 0 ||
        request.MinCreateRevision != 0 || request.MaxCreateRevision != 0;

    private static bool PassesFilters(RangeRequest request, KeyVersion version)
    {
        var mod = version.Revision.Main;
        if (request.MaxModRevision != 0 && mod > request.MaxModRevision)
            return false;
        if (request.MinModRevision != 0 && mod < request.MinModRevision)
            return false;
        if (request.MaxCreateRevision != 0 && version.CreateRevision > request.MaxCreateRevision)
            return false;
        if (request.MinCreateRevision != 0 && version.CreateRevision < request.MinCreateRevision)
            return false;
        return true;
    }

    /// <summary>
    /// Sorts as etcd does: the index yields keys ascending, so KEY with NONE or ASCEND needs
    /// nothing; any other target with NONE means ASCEND. Ties keep key order (etcd leaves them
    /// unspecified; Kvorum makes them deterministic).
    /// </summary>
    private static void Sort(List<(KeyHistory History, KeyVersion Version)> matches,
        RangeRequest.Types.SortTarget target, RangeRequest.Types.SortOrder order)
    {
        if (target != RangeRequest.Types.SortTarget.Key && order == RangeRequest.Types.SortOrder.None)
            order = RangeRequest.Types.SortOrder.Ascend;
        if (order == RangeRequest.Types.SortOrder.None ||
            (target == RangeRequest.Types.SortTarget.Key && order == RangeRequest.Types.SortOrder.Ascend))
            return;
        if (target == RangeRequest.Types.SortTarget.Key)
        {
            matches.Reverse();
            return;
        }

        Comparison<KeyVersion> byTarget = target switch
        {
            RangeRequest.Types.SortTarget.Version => static (a, b) => a.Version.CompareTo(b.Version),
            RangeRequest.Types.SortTarget.Create => static (a, b) => a.CreateRevision.CompareTo(b.CreateRevision),
            RangeRequest.Types.SortTarget.Mod => static (a, b) => a.Revision.Main.CompareTo(b.Revision.Main),
            RangeRequest.Types.SortTarget.Value => static (a, b) => ByteKeyComparer.Compare(a.ValueSpan, b.ValueSpan),
            _ => throw new ArgumentOutOfRangeException(nameof(target), target, "Unknown sort target."),
        };
        var sign = order == RangeRequest.Types.SortOrder.Descend ? -1 : 1;

        // Decorate with the key-order position so ties stay in key order: List.Sort is not stable.
        var decorated = new (int Position, KeyHistory History, KeyVersion Version)[matches.Count];
        for (var i = 0; i < decorated.Length; i++)
            decorated[i] = (i, matches[i].History, matches[i].Version);
        Array.Sort(decorated, (a, b) =>
        {
            var byValue = sign * byTarget(a.Version, b.Version);
            return byValue != 0 ? byValue : a.Position.CompareTo(b.Position);
        });
        for (var i = 0; i < decorated.Length; i++)
            matches[i] = (decorated[i].History, decorated[i].Version);
    }
}
