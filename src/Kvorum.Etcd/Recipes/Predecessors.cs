using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Etcd.Keys;

namespace Kvorum.Etcd.Recipes;

/// <summary>
/// The queue under a lock's or an election's prefix, as etcd's <c>concurrency</c> recipes read it: the keys are
/// ordered by creation revision, the oldest holds the lock (or leads), and each waiter waits only for the keys
/// created before its own to be deleted, the newest of them first, so a release wakes one waiter, not all.
/// </summary>
internal static class Predecessors
{
    /// <summary>A range for the key under <paramref name="prefix"/> created first (etcd's <c>WithFirstCreate</c>).</summary>
    /// <param name="prefix">The prefix, ending in <c>/</c>.</param>
    /// <returns>The request.</returns>
    public static RangeRequest Oldest(ByteString prefix) => new()
    {
        Key = prefix,
        RangeEnd = KeyRange.PrefixEnd(prefix),
        SortTarget = RangeRequest.Types.SortTarget.Create,
        SortOrder = RangeRequest.Types.SortOrder.Ascend,
        Limit = 1,
    };

    /// <summary>
    /// Waits until no key under <paramref name="prefix"/> created at or before <paramref name="maxCreateRevision"/> is
    /// left (etcd's <c>waitDeletes</c>).
    /// </summary>
    /// <param name="client">The calls to make.</param>
    /// <param name="prefix">The prefix, ending in <c>/</c>.</param>
    /// <param name="maxCreateRevision">The creation revision of the waiter's own key, minus one.</param>
    /// <param name="cancellation">Stops waiting.</param>
    /// <returns>The header of the read that found none left.</returns>
    /// <exception cref="EtcdException">The server ended a watch.</exception>
    public static async Task<ResponseHeader> WaitForDeletesAsync(IRecipeClient client, ByteString prefix, long maxCreateRevision, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(client);
        var newest = new RangeRequest
        {
            Key = prefix,
            RangeEnd = KeyRange.PrefixEnd(prefix),
            SortTarget = RangeRequest.Types.SortTarget.Create,
            SortOrder = RangeRequest.Types.SortOrder.Descend,
            Limit = 1,
            MaxCreateRevision = maxCreateRevision,
        };
        while (true)
        {
            var response = await client.RangeAsync(newest, cancellation).ConfigureAwait(false);
            if (response.Kvs.Count == 0)
                return response.Header;
            await KeyWatch.WaitForDeleteAsync(client.WatchChannels, response.Kvs[0].Key, response.Header.Revision, cancellation).ConfigureAwait(false);
        }
    }
}
