using System.Runtime.CompilerServices;
using Google.Protobuf;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Client;

/// <summary>
/// etcd's <c>concurrency.Election</c>, client-side over Txn, Range and Watch: the leader of election <c>NAME</c> is
/// the oldest key under <c>NAME/</c>, whose value is its proposal. A candidate puts <c>NAME/&lt;lease hex&gt;</c>
/// under its session's lease and waits for every older key to be deleted; an observer follows the oldest key.
/// </summary>
internal sealed class SessionElection
{
    private readonly EtcdConnection _connection;
    private readonly ByteString _prefix;
    private readonly string _name;
    private long _leaderRevision;
    private bool _leading;

    /// <summary>Creates an election handle; nothing is sent yet.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="name">The election's name.</param>
    public SessionElection(EtcdConnection connection, string name)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(name);
        _connection = connection;
        _name = name;
        _prefix = ByteString.CopyFromUtf8(name + "/");
    }

    /// <summary>The candidate's key once <see cref="CampaignAsync"/> has put it.</summary>
    public ByteString Key { get; private set; } = ByteString.Empty;

    /// <summary>
    /// Stands for election with <paramref name="proposal"/> and waits to be elected. A candidate whose key exists
    /// (the same session) proclaims the new value. If the wait is cancelled, the candidate resigns.
    /// </summary>
    /// <param name="session">The session whose lease the key lives under.</param>
    /// <param name="proposal">The value to lead with.</param>
    /// <param name="cancellation">Stops waiting.</param>
    /// <exception cref="CommandFailedException">A request failed.</exception>
    public async Task CampaignAsync(LeaseSession session, string proposal, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(session);
        Key = ByteString.CopyFromUtf8($"{_name}/{session.LeaseId:x}");
        var value = ByteString.CopyFromUtf8(proposal);
        var txn = new TxnRequest { Compare = { CreatedAt(0) } };
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Key, Value = value, Lease = session.LeaseId } });
        txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = Key } });
        var response = await _connection.CallAsync(
            (channel, options) => new KV.KVClient(channel).TxnAsync(txn, options).ResponseAsync, cancellation).ConfigureAwait(false);
        _leaderRevision = response.Header.Revision;
        _leading = true;
        if (!response.Succeeded)
        {
            var existing = response.Responses[0].ResponseRange.Kvs[0];
            _leaderRevision = existing.CreateRevision;
            if (existing.Value != value)
                await ProclaimAsync(session, value, cancellation).ConfigureAwait(false);
        }
        try
        {
            await Predecessors.WaitForDeletesAsync(_connection, _prefix, _leaderRevision - 1, cancellation).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            await ResignAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Gives up leadership (or candidacy): deletes the key if it is still this candidate's.</summary>
    /// <param name="cancellation">Cancels the request.</param>
    public async Task ResignAsync(CancellationToken cancellation)
    {
        if (!_leading)
            return;
        var txn = new TxnRequest { Compare = { CreatedAt(_leaderRevision) } };
        txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = Key } });
        _leading = false;
        await _connection.CallAsync((channel, options) => new KV.KVClient(channel).TxnAsync(txn, options).ResponseAsync, cancellation).ConfigureAwait(false);
    }

    /// <summary>
    /// The leaders as they come (etcd's <c>Observe</c>): the current one (or the first, once there is one), then
    /// each new value it proclaims, then its successor once its key is deleted; each as a one-key range answer.
    /// </summary>
    /// <param name="cancellation">Stops observing.</param>
    /// <returns>The answers.</returns>
    /// <exception cref="CommandFailedException">A read failed, or the server ended a watch.</exception>
    public async IAsyncEnumerable<RangeResponse> ObserveAsync([EnumeratorCancellation] CancellationToken cancellation)
    {
        var channel = _connection.Channel(_connection.Endpoints[0]);
        while (true)
        {
            var oldest = Predecessors.Oldest(_prefix);
            var current = await _connection.CallAsync(
                (c, options) => new KV.KVClient(c).RangeAsync(oldest, options).ResponseAsync, cancellation).ConfigureAwait(false);
            ResponseHeader header;
            KeyValue leader;
            if (current.Kvs.Count > 0)
            {
                (header, leader) = (current.Header, current.Kvs[0]);
            }
            else
            {
                (header, leader) = await FirstPutAsync(channel, current.Header.Revision, cancellation).ConfigureAwait(false);
            }
            yield return new RangeResponse { Header = header, Kvs = { leader } };

            using var watch = KeyWatch.Open(channel, new WatchCreateRequest { Key = leader.Key, StartRevision = header.Revision + 1 }, cancellation);
            var deleted = false;
            await foreach (var response in watch.ResponsesAsync(cancellation).ConfigureAwait(false))
            {
                foreach (var e in response.Events)
                {
                    if (e.Type == Event.Types.EventType.Delete)
                    {
                        deleted = true;
                        break;
                    }
                    yield return new RangeResponse { Header = response.Header, Kvs = { e.Kv } };
                }
                if (deleted || response.Canceled)
                    break;
            }
            if (!deleted)
                throw new CommandFailedException("Error: elect: observer lost");
        }
    }

    /// <summary>Waits for the first put under the prefix from <paramref name="revision"/> on.</summary>
    private async Task<(ResponseHeader Header, KeyValue Leader)> FirstPutAsync(Grpc.Net.Client.GrpcChannel channel, long revision, CancellationToken cancellation)
    {
        using var watch = KeyWatch.Open(channel, new WatchCreateRequest { Key = _prefix, RangeEnd = KeyRanges.PrefixEnd(_prefix), StartRevision = revision }, cancellation);
        await foreach (var response in watch.ResponsesAsync(cancellation).ConfigureAwait(false))
        {
            if (response.Events.FirstOrDefault(e => e.Type == Event.Types.EventType.Put) is { } put)
            {
                var header = response.Header.Clone();
                header.Revision = put.Kv.ModRevision;
                return (header, put.Kv);
            }
        }
        throw new CommandFailedException("Error: elect: observer lost");
    }

    private async Task ProclaimAsync(LeaseSession session, ByteString value, CancellationToken cancellation)
    {
        var txn = new TxnRequest { Compare = { CreatedAt(_leaderRevision) } };
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Key, Value = value, Lease = session.LeaseId } });
        var response = await _connection.CallAsync(
            (channel, options) => new KV.KVClient(channel).TxnAsync(txn, options).ResponseAsync, cancellation).ConfigureAwait(false);
        if (!response.Succeeded)
        {
            _leading = false;
            throw new CommandFailedException("Error: election: not leader");
        }
    }

    private Compare CreatedAt(long revision) => new()
    {
        Key = Key,
        Target = Compare.Types.CompareTarget.Create,
        Result = Compare.Types.CompareResult.Equal,
        CreateRevision = revision,
    };
}
