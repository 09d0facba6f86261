using Google.Protobuf;
using Kvorum.Etcd.Api;

namespace Kvorum.Etcd.Recipes;

/// <summary>
/// etcd's <c>concurrency.Mutex</c> over Txn, Range and Watch: the lock <c>NAME</c> is held by the oldest key under
/// <c>NAME/</c>; a contender puts <c>NAME/&lt;lease hex&gt;</c> under its lease (or finds it there already, when the
/// lease holds it) and waits for every older key to be deleted. Keeping the lease alive is the caller's business.
/// </summary>
internal sealed class LeaseLock
{
    private readonly IRecipeClient _client;
    private readonly ByteString _prefix;

    /// <summary>Creates a lock handle; nothing is sent yet.</summary>
    /// <param name="client">The calls to make.</param>
    /// <param name="name">The lock's name.</param>
    /// <param name="leaseId">The lease the lock key lives under.</param>
    public LeaseLock(IRecipeClient client, ByteString name, long leaseId)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(name);
        _client = client;
        _prefix = RecipeKeys.Prefix(name);
        LeaseId = leaseId;
        Key = RecipeKeys.Key(_prefix, leaseId);
    }

    /// <summary>The lease the key lives under.</summary>
    public long LeaseId { get; }

    /// <summary>This contender's key, <c>NAME/&lt;lease hex&gt;</c>.</summary>
    public ByteString Key { get; }

    /// <summary>
    /// The header of the answer that gave the lock: the txn's when it was free, else the last read of the wait (etcd
    /// 3.4's; its revision is etcdctl's <c>ETCD_LOCK_REV</c>).
    /// </summary>
    public ResponseHeader Header { get; private set; } = new();

    /// <summary>Waits for the lock. If the wait fails or is cancelled, the key is deleted again.</summary>
    /// <param name="cancellation">Stops waiting.</param>
    public async Task LockAsync(CancellationToken cancellation)
    {
        var mine = new Compare { Key = Key, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 };
        var txn = new TxnRequest { Compare = { mine } };
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Key, Lease = LeaseId } });
        txn.Success.Add(new RequestOp { RequestRange = Predecessors.Oldest(_prefix) });
        txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = Key } });
        txn.Failure.Add(new RequestOp { RequestRange = Predecessors.Oldest(_prefix) });
        var response = await _client.TxnAsync(txn, cancellation).ConfigureAwait(false);
        var myRevision = response.Succeeded ? response.Header.Revision : response.Responses[0].ResponseRange.Kvs[0].CreateRevision;
        var owner = response.Responses[1].ResponseRange.Kvs;
        if (owner.Count == 0 || owner[0].CreateRevision == myRevision)
        {
            Header = response.Header;
            return;
        }
        try
        {
            Header = await Predecessors.WaitForDeletesAsync(_client, _prefix, myRevision - 1, cancellation).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // As etcd's Mutex: a contender that stops waiting leaves the queue, whatever stopped it; a failure to
            // leave is ignored, as etcd's is, so that the caller sees why the wait ended.
            await RecipeCleanup.IgnoringFailureAsync(() => UnlockAsync(CancellationToken.None)).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Releases the lock (or leaves the queue): deletes the key.</summary>
    /// <param name="cancellation">Cancels the request.</param>
    /// <returns>The delete's answer.</returns>
    public Task<DeleteRangeResponse> UnlockAsync(CancellationToken cancellation) =>
        _client.DeleteRangeAsync(new DeleteRangeRequest { Key = Key }, cancellation);
}
