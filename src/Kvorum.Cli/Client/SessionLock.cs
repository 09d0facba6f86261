using Google.Protobuf;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Client;

/// <summary>
/// etcd's <c>concurrency.Mutex</c>, client-side over Txn, Range and Watch: the lock <c>NAME</c> is held by the
/// oldest key under <c>NAME/</c>; a contender puts <c>NAME/&lt;lease hex&gt;</c> under its session's lease (or finds
/// it there already, when the session holds it) and waits for every older key to be deleted.
/// </summary>
internal sealed class SessionLock
{
    private readonly EtcdConnection _connection;
    private readonly ByteString _prefix;

    /// <summary>Creates a lock handle; nothing is sent yet.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="session">The session whose lease the lock key lives under.</param>
    /// <param name="name">The lock's name.</param>
    public SessionLock(EtcdConnection connection, LeaseSession session, string name)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(session);
        _connection = connection;
        _prefix = ByteString.CopyFromUtf8(name + "/");
        Session = session;
        Key = ByteString.CopyFromUtf8($"{name}/{session.LeaseId:x}");
    }

    /// <summary>The session.</summary>
    public LeaseSession Session { get; }

    /// <summary>This contender's key, <c>NAME/&lt;lease hex&gt;</c>.</summary>
    public ByteString Key { get; }

    /// <summary>The header of the answer that gave the lock (its revision is etcdctl's <c>ETCD_LOCK_REV</c>).</summary>
    public ResponseHeader Header { get; private set; } = new();

    /// <summary>Waits for the lock. If the wait fails or is cancelled, the key is deleted again.</summary>
    /// <param name="cancellation">Stops waiting.</param>
    /// <exception cref="CommandFailedException">A request failed.</exception>
    public async Task LockAsync(CancellationToken cancellation)
    {
        var mine = new Compare { Key = Key, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 };
        var txn = new TxnRequest { Compare = { mine } };
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Key, Lease = Session.LeaseId } });
        txn.Success.Add(new RequestOp { RequestRange = Predecessors.Oldest(_prefix) });
        txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = Key } });
        txn.Failure.Add(new RequestOp { RequestRange = Predecessors.Oldest(_prefix) });
        var response = await _connection.CallAsync(
            (channel, options) => new KV.KVClient(channel).TxnAsync(txn, options).ResponseAsync, cancellation).ConfigureAwait(false);
        var myRevision = response.Succeeded ? response.Header.Revision : response.Responses[0].ResponseRange.Kvs[0].CreateRevision;
        var owner = response.Responses[1].ResponseRange.Kvs;
        if (owner.Count == 0 || owner[0].CreateRevision == myRevision)
        {
            Header = response.Header;
            return;
        }
        try
        {
            Header = await Predecessors.WaitForDeletesAsync(_connection, _prefix, myRevision - 1, cancellation).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or CommandFailedException)
        {
            await UnlockAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Releases the lock (or leaves the queue): deletes the key.</summary>
    /// <param name="cancellation">Cancels the request.</param>
    public Task UnlockAsync(CancellationToken cancellation) => _connection.CallAsync(
        (channel, options) => new KV.KVClient(channel).DeleteRangeAsync(new DeleteRangeRequest { Key = Key }, options).ResponseAsync, cancellation);
}
