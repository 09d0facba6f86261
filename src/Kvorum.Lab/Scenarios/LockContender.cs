using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Api.V3Lock;
using LeaseApi = Kvorum.Etcd.Api.Lease;
using LockApi = Kvorum.Etcd.Api.V3Lock.Lock;

namespace Kvorum.Lab.Scenarios;

/// <summary>
/// One client of the <c>lock-under-partition</c> scenario. It talks to one member only, as a client pinned to its
/// nearest endpoint does: it holds a lease that a background loop keeps alive, takes a lock under that lease with
/// etcd's Lock API, and writes to a shared key either plainly or fenced by its token (the create revision of the
/// key that holds its lock). Every keep-alive is recorded on the scenario's clock.
/// </summary>
internal sealed class LockContender : IAsyncDisposable
{
    private readonly GrpcChannel _channel;
    private readonly Stopwatch _clock;
    private readonly TimeSpan _callTimeout;
    private readonly System.Threading.Lock _gate = new();
    private readonly List<KeepAliveRecord> _keepAlives = [];
    private readonly CancellationTokenSource _stop = new();
    private Task _keepAliveLoop = Task.CompletedTask;

    /// <summary>Creates the client; nothing is sent yet.</summary>
    /// <param name="name">What the narration calls it (<c>A</c>).</param>
    /// <param name="node">The member it talks to.</param>
    /// <param name="channel">The channel to that member.</param>
    /// <param name="clock">The scenario's clock.</param>
    /// <param name="callTimeout">The deadline of each call but the lock wait.</param>
    public LockContender(string name, int node, GrpcChannel channel, Stopwatch clock, TimeSpan callTimeout)
    {
        Name = name;
        Node = node;
        _channel = channel;
        _clock = clock;
        _callTimeout = callTimeout;
    }

    /// <summary>What the narration calls it.</summary>
    public string Name { get; }

    /// <summary>The member it talks to.</summary>
    public int Node { get; }

    /// <summary>Its lease, once granted.</summary>
    public long LeaseId { get; private set; }

    /// <summary>How often it renews its lease, once granted: a third of the TTL.</summary>
    public TimeSpan KeepAliveInterval { get; private set; }

    /// <summary>The key that holds its lock (<c>NAME/&lt;lease hex&gt;</c>), once it holds it.</summary>
    public ByteString OwnerKey { get; private set; } = ByteString.Empty;

    /// <summary>
    /// Its fencing token: the create revision of <see cref="OwnerKey"/>. Every later holder's key is created later,
    /// so its token is larger.
    /// </summary>
    public long Token { get; private set; }

    /// <summary>The keep-alives sent so far, oldest first.</summary>
    public IReadOnlyList<KeepAliveRecord> KeepAlives
    {
        get
        {
            lock (_gate)
                return [.. _keepAlives];
        }
    }

    /// <summary>Grants a lease of <paramref name="ttlSeconds"/> and starts keeping it alive every third of it.</summary>
    /// <param name="ttlSeconds">The lease's TTL.</param>
    /// <param name="cancellation">Cancels the grant.</param>
    /// <exception cref="RpcException">The grant failed.</exception>
    public async Task GrantLeaseAsync(long ttlSeconds, CancellationToken cancellation)
    {
        var granted = await new LeaseApi.LeaseClient(_channel)
            .LeaseGrantAsync(new LeaseGrantRequest { TTL = ttlSeconds }, Deadline(_callTimeout, cancellation)).ResponseAsync.ConfigureAwait(false);
        LeaseId = granted.ID;
        KeepAliveInterval = TimeSpan.FromSeconds(ttlSeconds / 3.0);
        _keepAliveLoop = Task.Run(() => KeepAliveLoopAsync(KeepAliveInterval), CancellationToken.None);
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the lock <paramref name="name"/>, then reads its token.</summary>
    /// <param name="name">The lock's name.</param>
    /// <param name="timeout">How long to wait for it.</param>
    /// <param name="cancellation">Stops waiting.</param>
    /// <exception cref="RpcException">The wait or the read failed.</exception>
    public async Task LockAsync(string name, TimeSpan timeout, CancellationToken cancellation)
    {
        var locked = await new LockApi.LockClient(_channel)
            .LockAsync(new LockRequest { Name = ByteString.CopyFromUtf8(name), Lease = LeaseId }, Deadline(timeout, cancellation)).ResponseAsync.ConfigureAwait(false);
        // The token is read back rather than taken from the answer's header: a contender that waited is answered
        // with the revision at which it was woken, not the one at which its key was created.
        var owner = await new KV.KVClient(_channel)
            .RangeAsync(new RangeRequest { Key = locked.Key }, Deadline(_callTimeout, cancellation)).ResponseAsync.ConfigureAwait(false);
        if (owner.Kvs.Count == 0)
            throw new LabException($"{Name}'s lock key {locked.Key.ToStringUtf8()} was gone when read back: its lease had ended ({KeepAliveSummary()})");
        OwnerKey = locked.Key;
        Token = owner.Kvs[0].CreateRevision;
    }

    /// <summary>Its keep-alives in one line: when the last one that renewed the lease was sent, and what became of the rest.</summary>
    /// <returns>The summary, with times on the scenario's clock.</returns>
    public string KeepAliveSummary()
    {
        var all = KeepAlives;
        var last = all.LastOrDefault(k => k.Renewed);
        var after = all.Where(k => last is null || k.Sent > last.Sent)
            .GroupBy(k => k.Error ?? $"TTL {k.Ttl}").Select(g => $"{g.Key} ×{g.Count()}");
        return $"{all.Count} keep-alives; the last renewal sent at {(last is null ? "none" : $"{last.Sent.TotalSeconds:0.0} s")}; after it: {string.Join(", ", after.DefaultIfEmpty("none"))}";
    }

    /// <summary>
    /// Whether its own member still shows its lock key, read from that member's local state (a serializable read,
    /// which answers without a leader and may be stale).
    /// </summary>
    /// <param name="cancellation">Cancels the read.</param>
    /// <returns>True when the key is there.</returns>
    /// <exception cref="RpcException">The read failed.</exception>
    public async Task<bool> SeesOwnKeyLocallyAsync(CancellationToken cancellation)
    {
        var read = await new KV.KVClient(_channel)
            .RangeAsync(new RangeRequest { Key = OwnerKey, Serializable = true }, Deadline(_callTimeout, cancellation)).ResponseAsync.ConfigureAwait(false);
        return read.Kvs.Count == 1 && read.Kvs[0].CreateRevision == Token;
    }

    /// <summary>Whether a linearizable read of its lock key through its member finds the key.</summary>
    /// <param name="cancellation">Cancels the read.</param>
    /// <returns>True when the key is there.</returns>
    /// <exception cref="RpcException">The read failed (without a majority it cannot succeed).</exception>
    public async Task<bool> SeesOwnKeyAsync(CancellationToken cancellation)
    {
        var read = await new KV.KVClient(_channel)
            .RangeAsync(new RangeRequest { Key = OwnerKey }, Deadline(_callTimeout, cancellation)).ResponseAsync.ConfigureAwait(false);
        return read.Kvs.Count == 1 && read.Kvs[0].CreateRevision == Token;
    }

    /// <summary>Puts <paramref name="key"/> = <paramref name="value"/> with no condition.</summary>
    /// <param name="key">The shared key.</param>
    /// <param name="value">What to write.</param>
    /// <param name="cancellation">Cancels the put.</param>
    /// <returns>The revision of the write.</returns>
    /// <exception cref="RpcException">The put failed.</exception>
    public async Task<long> PutAsync(string key, string value, CancellationToken cancellation)
    {
        var put = await new KV.KVClient(_channel)
            .PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) }, Deadline(_callTimeout, cancellation)).ResponseAsync.ConfigureAwait(false);
        return put.Header.Revision;
    }

    /// <summary>
    /// Puts <paramref name="key"/> = <paramref name="value"/> in one Txn that succeeds only if the lock key still
    /// exists with this contender's token as its create revision: only while the lock is still this contender's.
    /// </summary>
    /// <param name="key">The shared key.</param>
    /// <param name="value">What to write.</param>
    /// <param name="cancellation">Cancels the txn.</param>
    /// <returns>True when the compare held and the put was applied.</returns>
    /// <exception cref="RpcException">The txn failed.</exception>
    public async Task<bool> FencedPutAsync(string key, string value, CancellationToken cancellation)
    {
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = OwnerKey, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = Token });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) } });
        var answer = await new KV.KVClient(_channel).TxnAsync(txn, Deadline(_callTimeout, cancellation)).ResponseAsync.ConfigureAwait(false);
        return answer.Succeeded;
    }

    /// <summary>Releases its lock (etcd's Unlock: deletes the key).</summary>
    /// <param name="cancellation">Cancels the call.</param>
    /// <exception cref="RpcException">The unlock failed.</exception>
    public async Task UnlockAsync(CancellationToken cancellation) =>
        await new LockApi.LockClient(_channel)
            .UnlockAsync(new UnlockRequest { Key = OwnerKey }, Deadline(_callTimeout, cancellation)).ResponseAsync.ConfigureAwait(false);

    /// <summary>
    /// One keep-alive every <paramref name="interval"/>, each on a stream of its own with the call deadline, so a
    /// keep-alive that cannot reach a leader fails on its own and the next one is still sent on time.
    /// </summary>
    private async Task KeepAliveLoopAsync(TimeSpan interval)
    {
        var client = new LeaseApi.LeaseClient(_channel);
        var callTimeout = _callTimeout < interval ? _callTimeout : interval;
        while (!_stop.IsCancellationRequested)
        {
            var sent = _clock.Elapsed;
            KeepAliveRecord record;
            try
            {
                using var call = client.LeaseKeepAlive(Deadline(callTimeout, _stop.Token));
                await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = LeaseId }).ConfigureAwait(false);
                await call.RequestStream.CompleteAsync().ConfigureAwait(false);
                record = await call.ResponseStream.MoveNext(_stop.Token).ConfigureAwait(false)
                    ? new KeepAliveRecord(sent, _clock.Elapsed, call.ResponseStream.Current.TTL, null)
                    : new KeepAliveRecord(sent, _clock.Elapsed, null, "stream ended without an answer");
            }
            catch (RpcException e) when (!_stop.IsCancellationRequested)
            {
                record = new KeepAliveRecord(sent, _clock.Elapsed, null, e.StatusCode.ToString());
            }
            catch (RpcException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (OperationCanceledException)
            {
                return;
            }

            lock (_gate)
                _keepAlives.Add(record);
            var next = sent + interval - _clock.Elapsed;
            if (next > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(next, _stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private static CallOptions Deadline(TimeSpan timeout, CancellationToken cancellation) =>
        new(deadline: DateTime.UtcNow + timeout, cancellationToken: cancellation);

    /// <summary>Stops the keep-alives and revokes the lease, ignoring a revoke that fails (the lease then expires).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _keepAliveLoop.ConfigureAwait(false);
        _stop.Dispose();
        if (LeaseId == 0)
            return;
        try
        {
            await new LeaseApi.LeaseClient(_channel)
                .LeaseRevokeAsync(new LeaseRevokeRequest { ID = LeaseId }, Deadline(_callTimeout, CancellationToken.None)).ResponseAsync.ConfigureAwait(false);
        }
        catch (RpcException)
        {
            // A lease that is already gone (expired, as A's does) or cannot be revoked now ends by its TTL.
        }
    }
}
