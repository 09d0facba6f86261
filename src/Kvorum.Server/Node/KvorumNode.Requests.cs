using System.Diagnostics;
using Google.Protobuf;
using Kvorum.Raft;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Node;

/// <summary>What clients ask of the member: writes through Raft, linearizable and serializable reads, and queries of the loop's state.</summary>
internal sealed partial class KvorumNode
{
    /// <summary>How long a write or linearizable read may wait before "request timed out".</summary>
    private TimeSpan RequestTimeout => TimeSpan.FromMilliseconds(Math.Max(5000, 5 * _options.ElectionTimeoutMs));

    /// <summary><see cref="RequestTimeout"/> in loop ticks, rounded up.</summary>
    private long RequestTimeoutTicks => ((long)RequestTimeout.TotalMilliseconds + _options.HeartbeatIntervalMs - 1) / Math.Max(1, _options.HeartbeatIntervalMs);

    /// <summary>Ticks after which a read still waiting for its read index asks again: 500 ms, as etcd, and at least 2.</summary>
    private int ReadIndexRetryTicks => Math.Max(2, (500 + _options.HeartbeatIntervalMs - 1) / Math.Max(1, _options.HeartbeatIntervalMs));

    /// <summary>Replicates a write through Raft and returns what applying it produced.</summary>
    /// <remarks>
    /// While this member knows no leader, the write waits for one up to <see cref="RequestTimeout"/>, as etcd's does
    /// (<see cref="WritesAwaitingLeader"/>). Once proposed, it fails with "request timed out" after
    /// <see cref="RequestTimeout"/> (an entry a new leader overwrote is never applied), and with "context canceled"
    /// when <paramref name="cancellation"/> fires first.
    /// </remarks>
    public async Task<T> ProposeAsync<T>(InternalRequest request, CancellationToken cancellation)
        where T : class
    {
        var tcs = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Increment(ref Metrics.ProposalsSubmitted);
        Post(() => ProposeOnLoop(request, tcs, Stopwatch.GetTimestamp()));
        // A loop that has stopped would never run the work above, nor time it out.
        if (Volatile.Read(ref _closed))
            tcs.TrySetException(new EtcdException(EtcdErrors.ServerStopped));
        object result;
        try
        {
            // A cancelled request stays in the table until it is applied or times out: both find it completed.
            using (cancellation.UnsafeRegister(static state => ((TaskCompletionSource<object>)state!).TrySetException(new EtcdException(EtcdErrors.Cancelled)), tcs))
                result = await tcs.Task.ConfigureAwait(false);
        }
        catch (EtcdException)
        {
            Interlocked.Increment(ref Metrics.ProposalsFailed);
            throw;
        }
        return result switch
        {
            T t => t,
            EtcdException e => throw e,
            _ => throw new EtcdException(EtcdErrors.UnexpectedApplyResult),
        };
    }

    /// <summary>
    /// On the loop: proposes <paramref name="request"/>, which arrived at <paramref name="arrivedAt"/>, and registers
    /// its waiter, or keeps it until a leader is known (<see cref="WritesAwaitingLeader"/>).
    /// </summary>
    private void ProposeOnLoop(InternalRequest request, TaskCompletionSource<object> tcs, long arrivedAt)
    {
        var id = _proposals.NextId();
        request.Id = id;
        var payload = EntryPayloads.Allocate(request.CalculateSize());
        request.WriteTo(payload);
        var r = _raft.Propose(payload);
        if (r.Status == ProposeStatus.NotLeader)
        {
            _awaitingLeader.Add(request, tcs, arrivedAt);
            return;
        }
        if (!r.AcceptedOrForwarded)
        {
            tcs.TrySetException(r.Status == ProposeStatus.TransferInProgress
                ? new EtcdException(EtcdErrors.LeaderChanged)
                : new EtcdException(EtcdErrors.NoLeader));
            return;
        }
        _proposals.Add(id, tcs, Stopwatch.GetTimestamp());
    }

    /// <summary>
    /// A range read: serializable ones are answered from local state; linearizable ones wait for a
    /// ReadIndex confirmed by the leader and for this member to apply up to it (thesis §6.4).
    /// </summary>
    /// <remarks>Made as <paramref name="who"/>, whose permission is checked when the read runs (auth off: none).</remarks>
    public Task<RangeResponse> RangeAsync(RangeRequest request, CancellationToken cancellation, Auth.AuthInfo who = default) =>
        ReadAsync(() =>
        {
            Auth.RequestPermissions.CheckRead(_state.Auth.Current, who, request.Key, request.RangeEnd);
            return _state.Store.Range(request);
        }, request.Serializable, cancellation);

    /// <summary>A txn that only reads (<see cref="ReadOnlyTxn"/>): answered like a range read, without Raft.</summary>
    public Task<TxnResponse> ReadOnlyTxnAsync(TxnRequest request, CancellationToken cancellation, Auth.AuthInfo who = default) =>
        ReadAsync(() =>
        {
            Auth.RequestPermissions.CheckTxn(_state.Auth.Current, who, request);
            return _state.Store.Txn(request);
        }, ReadOnlyTxn.IsSerializable(request), cancellation);

    /// <summary>
    /// A range read answered again at <paramref name="revision"/>, the revision of its first answer, which was let
    /// go while it waited for room to be sent (<see cref="Http2.UnreadAnswerBudget"/>): from local state, without a
    /// second ReadIndex (the first read fixed the read's point in the history) nor a second permission check (the
    /// first one's decision stands, as the answer is the first one again).
    /// </summary>
    /// <exception cref="EtcdException">Compacted: the store was compacted past <paramref name="revision"/> meanwhile.</exception>
    public Task<RangeResponse> RangeAgainAsync(RangeRequest request, long revision, CancellationToken cancellation) =>
        QueryAsync(() => RepeatedReads.Range(_state.Store, request, revision)).WaitAsync(cancellation);

    /// <summary>A txn that only reads answered again at <paramref name="revision"/>, as <see cref="RangeAgainAsync"/>.</summary>
    /// <exception cref="EtcdException">Compacted: the store was compacted past <paramref name="revision"/> meanwhile.</exception>
    public Task<TxnResponse> ReadOnlyTxnAgainAsync(TxnRequest request, long revision, CancellationToken cancellation) =>
        QueryAsync(() => RepeatedReads.ReadOnlyTxn(_state.Store, request, revision)).WaitAsync(cancellation);

    private async Task<T> ReadAsync<T>(Func<T> query, bool serializable, CancellationToken cancellation)
        where T : class
    {
        var tcs = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Execute()
        {
            // The client has gone (its stream or connection ended) while the read waited for the loop: a full-range
            // answer built for nobody would take the loop's time and memory all the same.
            if (cancellation.IsCancellationRequested)
                tcs.TrySetCanceled(cancellation);
            else
                Answer<object>(tcs, query);
        }
        if (serializable)
            Post(Execute);
        else
            Post(() => _reads.Enqueue(new ClientRead(Execute, e => tcs.TrySetException(e)), _loopTicks));
        // A loop that has stopped would never run the read (see ProposeAsync).
        if (Volatile.Read(ref _closed))
            tcs.TrySetException(new EtcdException(EtcdErrors.ServerStopped));
        var result = await WaitAsync(tcs, () => true, cancellation).ConfigureAwait(false);
        return (T)result;
    }

    /// <summary>
    /// Waits for <paramref name="tcs"/> up to <see cref="RequestTimeout"/>; a request given up on (cancelled, timed
    /// out) is then forgotten on the loop with <paramref name="forget"/>.
    /// </summary>
    private async Task<object> WaitAsync(TaskCompletionSource<object> tcs, Func<bool> forget, CancellationToken cancellation)
    {
        try
        {
            return await tcs.Task.WaitAsync(RequestTimeout, cancellation).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            Post(() => forget());
            throw new EtcdException(EtcdErrors.Cancelled);
        }
        catch (TimeoutException)
        {
            Post(() => forget());
            throw new EtcdException(EtcdErrors.TimedOut);
        }
    }

    /// <summary>Runs <paramref name="query"/> on the loop thread against the current state.</summary>
    internal Task<T> QueryAsync<T>(Func<T> query)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() => Answer(tcs, query));
        // A loop that has stopped would never run the query (see ProposeAsync).
        if (Volatile.Read(ref _closed))
            tcs.TrySetException(new EtcdException(EtcdErrors.ServerStopped));
        return tcs.Task;
    }

    /// <summary>Runs <paramref name="query"/> and gives <paramref name="tcs"/> its answer, or the etcd error it failed with.</summary>
    private static void Answer<T>(TaskCompletionSource<T> tcs, Func<T> query)
    {
        try
        {
            tcs.TrySetResult(query());
        }
        catch (EtcdException e)
        {
            tcs.TrySetException(e);
        }
    }

    /// <summary>
    /// Maintenance.HashKV, answered from this member's state like a serializable read. The loop only checks the
    /// revision and takes the state (<see cref="MvccStore.FreezeForHashKV"/>); the hashing, hundreds of
    /// milliseconds for a large store, runs on the thread pool while the loop goes on.
    /// </summary>
    public async Task<HashKVResponse> HashKVAsync(HashKVRequest request, CancellationToken cancellation)
    {
        var (state, revision) = await QueryAsync(() => _state.Store.FreezeForHashKV(request)).WaitAsync(cancellation).ConfigureAwait(false);
        return await Task.Run(() => MvccHash.Respond(state, revision), cancellation).ConfigureAwait(false);
    }

    /// <summary>Fails every client waiting on the loop with <paramref name="error"/>: the loop stops.</summary>
    private void FailAllWaiters(EtcdException error)
    {
        _proposals.FailAll(error);
        _awaitingLeader.FailAll(error);
        _membership.FailAll(error);
        _reads.FailAll(error);
        _appliedWaiters.FailAll(error);
    }
}
