using System.Runtime.CompilerServices;
using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;

namespace Kvorum.Etcd.Recipes;

/// <summary>
/// etcd's <c>concurrency.Election</c> over Txn, Range and Watch: the leader of election <c>NAME</c> is the oldest
/// key under <c>NAME/</c>, whose value is its proclamation. A candidate puts <c>NAME/&lt;lease hex&gt;</c> under its
/// lease and waits for every older key to be deleted; an observer follows the oldest key. A leadership is its key
/// and that key's creation revision, so a handle can be resumed from them (<see cref="Resume"/>), as etcd's server
/// does for Proclaim and Resign.
/// </summary>
internal sealed class LeaseElection
{
    private readonly IRecipeClient _client;
    private readonly ByteString _prefix;
    private bool _leading;

    /// <summary>Creates an election handle; nothing is sent yet.</summary>
    /// <param name="client">The calls to make.</param>
    /// <param name="name">The election's name.</param>
    public LeaseElection(IRecipeClient client, ByteString name)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(name);
        _client = client;
        Name = name;
        _prefix = RecipeKeys.Prefix(name);
    }

    /// <summary>The election's name.</summary>
    public ByteString Name { get; }

    /// <summary>The candidate's key once <see cref="CampaignAsync"/> has put it.</summary>
    public ByteString Key { get; private set; } = ByteString.Empty;

    /// <summary>The creation revision of <see cref="Key"/>: what proves the leadership in Proclaim and Resign.</summary>
    public long Revision { get; private set; }

    /// <summary>The lease <see cref="Key"/> lives under.</summary>
    public long LeaseId { get; private set; }

    /// <summary>The header of the campaign's first txn (etcd answers Campaign with it, not with the wait's).</summary>
    public ResponseHeader Header { get; private set; } = new();

    /// <summary>A handle on a leadership won earlier: proclaiming and resigning compare the key's creation revision.</summary>
    /// <param name="client">The calls to make.</param>
    /// <param name="name">The election's name.</param>
    /// <param name="key">The leader's key.</param>
    /// <param name="revision">The key's creation revision when it was elected.</param>
    /// <param name="leaseId">The lease a proclamation puts the key under.</param>
    /// <returns>The handle.</returns>
    public static LeaseElection Resume(IRecipeClient client, ByteString name, ByteString key, long revision, long leaseId) =>
        new(client, name) { Key = key, Revision = revision, LeaseId = leaseId, _leading = true };

    /// <summary>
    /// Stands for election with <paramref name="value"/> and waits to be elected. A candidate whose key exists (the
    /// same lease) proclaims the new value. If the wait is cancelled, the candidate resigns.
    /// </summary>
    /// <param name="leaseId">The lease the key lives under.</param>
    /// <param name="value">The value to lead with.</param>
    /// <param name="cancellation">Stops waiting.</param>
    /// <exception cref="EtcdException">The key changed hands while proclaiming, or a watch ended.</exception>
    public async Task CampaignAsync(long leaseId, ByteString value, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(value);
        LeaseId = leaseId;
        Key = RecipeKeys.Key(_prefix, leaseId);
        var txn = new TxnRequest { Compare = { CreatedAt(0) } };
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Key, Value = value, Lease = leaseId } });
        txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = Key } });
        var response = await _client.TxnAsync(txn, cancellation).ConfigureAwait(false);
        Header = response.Header;
        Revision = response.Header.Revision;
        _leading = true;
        if (!response.Succeeded)
        {
            var existing = response.Responses[0].ResponseRange.Kvs[0];
            Revision = existing.CreateRevision;
            if (existing.Value != value)
            {
                try
                {
                    await ProclaimAsync(value, cancellation).ConfigureAwait(false);
                }
                catch (Exception)
                {
                    await RecipeCleanup.IgnoringFailureAsync(() => ResignAsync(CancellationToken.None)).ConfigureAwait(false);
                    throw;
                }
            }
        }
        try
        {
            await Predecessors.WaitForDeletesAsync(_client, _prefix, Revision - 1, cancellation).ConfigureAwait(false);
        }
        catch (Exception) when (cancellation.IsCancellationRequested)
        {
            // As etcd's Campaign: a candidate that gives up waiting leaves the queue; one whose wait failed keeps its key.
            await RecipeCleanup.IgnoringFailureAsync(() => ResignAsync(CancellationToken.None)).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Puts a new value on the leader's key, if the key is still the one elected.</summary>
    /// <param name="value">The value.</param>
    /// <param name="cancellation">Cancels the request.</param>
    /// <returns>The txn's header.</returns>
    /// <exception cref="EtcdException"><see cref="EtcdErrors.ElectionNotLeader"/>: the key was deleted or replaced.</exception>
    public async Task<ResponseHeader> ProclaimAsync(ByteString value, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!_leading)
            throw new EtcdException(EtcdErrors.ElectionNotLeader);
        var txn = new TxnRequest { Compare = { CreatedAt(Revision) } };
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Key, Value = value, Lease = LeaseId } });
        var response = await _client.TxnAsync(txn, cancellation).ConfigureAwait(false);
        if (!response.Succeeded)
        {
            _leading = false;
            throw new EtcdException(EtcdErrors.ElectionNotLeader);
        }
        return response.Header;
    }

    /// <summary>
    /// Gives up leadership (or candidacy): deletes the key if it is still the one elected. A key that is gone or
    /// replaced is not an error, as in etcd.
    /// </summary>
    /// <param name="cancellation">Cancels the request.</param>
    /// <returns>The txn's header, or null when this handle did not lead.</returns>
    public async Task<ResponseHeader?> ResignAsync(CancellationToken cancellation)
    {
        if (!_leading)
            return null;
        var txn = new TxnRequest { Compare = { CreatedAt(Revision) } };
        txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = Key } });
        _leading = false;
        var response = await _client.TxnAsync(txn, cancellation).ConfigureAwait(false);
        return response.Header;
    }

    /// <summary>The current leader: the oldest key under the prefix, and the read's header.</summary>
    /// <param name="cancellation">Cancels the request.</param>
    /// <returns>The header and the leader's key and value.</returns>
    /// <exception cref="EtcdException"><see cref="EtcdErrors.ElectionNoLeader"/>: no key under the prefix.</exception>
    public async Task<(ResponseHeader Header, KeyValue Leader)> LeaderAsync(CancellationToken cancellation)
    {
        var response = await _client.RangeAsync(Predecessors.Oldest(_prefix), cancellation).ConfigureAwait(false);
        if (response.Kvs.Count == 0)
            throw new EtcdException(EtcdErrors.ElectionNoLeader);
        return (response.Header, response.Kvs[0]);
    }

    /// <summary>
    /// The leaders as they come (etcd's <c>Observe</c>): the current one (or the first, once there is one), then each
    /// new value it proclaims, then its successor once its key is deleted. The sequence ends when a watch is lost, as
    /// etcd's observe channel closes.
    /// </summary>
    /// <param name="cancellation">Stops observing.</param>
    /// <returns>Each leader with the header of the answer that showed it.</returns>
    public async IAsyncEnumerable<(ResponseHeader Header, KeyValue Leader)> ObserveAsync([EnumeratorCancellation] CancellationToken cancellation)
    {
        while (true)
        {
            var current = await _client.RangeAsync(Predecessors.Oldest(_prefix), cancellation).ConfigureAwait(false);
            ResponseHeader header;
            KeyValue leader;
            if (current.Kvs.Count > 0)
            {
                (header, leader) = (current.Header, current.Kvs[0]);
            }
            else if (await FirstPutAsync(current.Header.Revision, cancellation).ConfigureAwait(false) is { } first)
            {
                (header, leader) = first;
            }
            else
            {
                yield break;
            }
            yield return (header, leader);

            var deleted = false;
            await foreach (var response in ResumingWatch.ResponsesAsync(_client.WatchChannels, new WatchCreateRequest { Key = leader.Key, StartRevision = header.Revision + 1 }, cancellation).ConfigureAwait(false))
            {
                foreach (var e in response.Events)
                {
                    if (e.Type == Event.Types.EventType.Delete)
                    {
                        deleted = true;
                        break;
                    }
                    yield return (response.Header, e.Kv);
                }
                if (deleted || response.Canceled)
                    break;
            }
            if (!deleted)
                yield break;
        }
    }

    /// <summary>Waits for the first put under the prefix from <paramref name="revision"/> on; null if the watch is lost.</summary>
    private async Task<(ResponseHeader Header, KeyValue Leader)?> FirstPutAsync(long revision, CancellationToken cancellation)
    {
        await foreach (var response in ResumingWatch.ResponsesAsync(_client.WatchChannels, new WatchCreateRequest { Key = _prefix, RangeEnd = Keys.KeyRange.PrefixEnd(_prefix), StartRevision = revision }, cancellation).ConfigureAwait(false))
        {
            if (response.Canceled)
                return null;
            if (response.Events.FirstOrDefault(e => e.Type == Event.Types.EventType.Put) is { } put)
            {
                var header = response.Header.Clone();
                header.Revision = put.Kv.ModRevision;
                return (header, put.Kv);
            }
        }
        return null;
    }

    private Compare CreatedAt(long revision) => new()
    {
        Key = Key,
        Target = Compare.Types.CompareTarget.Create,
        Result = Compare.Types.CompareResult.Equal,
        CreateRevision = revision,
    };
}
