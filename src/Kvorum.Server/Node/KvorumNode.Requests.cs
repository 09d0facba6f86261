using System.Buffers.Binary;
using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Kvorum.Raft;
using Kvorum.Etcd.Api;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Node;

public sealed partial class KvorumNode
{
    private readonly Dictionary<ulong, TaskCompletionSource<object>> _proposals = [];
    /// <summary>A linearizable read waiting for its read index: run it, or fail it.</summary>
    private sealed record ClientRead(Action Execute, Action<Exception> Fail);

    private readonly List<ClientRead> _readBatch = [];
    // Reads waiting for their read index, by request context, with the leader they were asked of and when
    // (in loop ticks) they last asked.
    private readonly Dictionary<ulong, (ulong Leader, List<ClientRead> Reads, long AskedAt)> _pendingReads = [];
    private readonly List<ulong> _readsToAskAgain = [];
    private readonly List<(ulong Index, List<ClientRead> Reads)> _readsAwaitingApply = [];
    private ulong _nextRequestId = (ulong)Random.Shared.NextInt64();
    // The last ReadIndex context. It starts at random, not at 0, so that a restarted member does not use its previous
    // run's contexts again: a leader's answer to one of those, still on its way, would complete a new read with an
    // older read index. Two runs overlap only if their starts fall within as many reads of each other, out of 2^63.
    private ulong _readContext = (ulong)Random.Shared.NextInt64();
    private long _attributesProposedAt = long.MinValue / 2;

    /// <summary>How long a write or linearizable read may wait before "request timed out".</summary>
    private TimeSpan RequestTimeout => TimeSpan.FromMilliseconds(Math.Max(5000, 5 * _options.ElectionTimeoutMs));

    /// <summary>Ticks after which a read still waiting for its read index asks again: 500 ms, as etcd, and at least 2.</summary>
    private int ReadIndexRetryTicks => Math.Max(2, (500 + _options.HeartbeatIntervalMs - 1) / Math.Max(1, _options.HeartbeatIntervalMs));

    private static EtcdException NoLeader() => new(StatusCode.Unavailable, "etcdserver: no leader");

    private static EtcdException LeaderChanged() => new(StatusCode.Unavailable, "etcdserver: leader changed");

    private static EtcdException TimedOut() => new(StatusCode.Unavailable, "etcdserver: request timed out");

    private static EtcdException Cancelled() => new(StatusCode.Cancelled, "context canceled");

    private static EtcdException ServerStopped() => new(StatusCode.Unavailable, "etcdserver: server stopped");

    /// <summary>
    /// Proposals waiting to be applied, oldest first, with the <see cref="Stopwatch"/> timestamp at which they time
    /// out. The loop, not a timer per request, fails them on its ticks (<see cref="ExpireProposals"/>): one entry of
    /// two numbers each, and no reference, so a request that completed in time keeps nothing alive until its deadline
    /// passes. The deadline is read from the clock, not counted in ticks: on a loaded machine the ticker's callbacks
    /// come late, and a count of ticks would stretch the timeout with them. Loop thread only.
    /// </summary>
    /// <remarks>Invariant: deadlines are non-decreasing from head to tail (one timeout, a monotonic clock).</remarks>
    private readonly Queue<(ulong Id, long Deadline)> _proposalDeadlines = new();

    /// <summary><see cref="RequestTimeout"/> in <see cref="Stopwatch"/> ticks.</summary>
    private long RequestTimeoutStopwatchTicks => (long)(RequestTimeout.TotalSeconds * Stopwatch.Frequency);

    /// <summary>Replicates a write through Raft and returns what applying it produced.</summary>
    /// <remarks>
    /// It fails with "request timed out" after <see cref="RequestTimeout"/> (an entry a new leader overwrote is never
    /// applied), and with "context canceled" when <paramref name="cancellation"/> fires first.
    /// </remarks>
    public async Task<T> ProposeAsync<T>(InternalRequest request, CancellationToken cancellation)
        where T : class
    {
        var tcs = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Increment(ref Metrics.ProposalsSubmitted);
        Post(() =>
        {
            var id = ++_nextRequestId;
            request.Id = id;
            var payload = EntryPayloads.Allocate(request.CalculateSize());
            request.WriteTo(payload);
            var r = _raft.Propose(payload);
            if (!r.AcceptedOrForwarded)
            {
                tcs.TrySetException(r.Status == ProposeStatus.TransferInProgress
                    ? LeaderChanged()
                    : NoLeader());
                return;
            }
            _proposals[id] = tcs;
            _proposalDeadlines.Enqueue((id, Stopwatch.GetTimestamp() + RequestTimeoutStopwatchTicks));
        });
        // A loop that has stopped would never run the work above, nor time it out.
        if (Volatile.Read(ref _closed))
            tcs.TrySetException(ServerStopped());
        object result;
        try
        {
            // A cancelled request stays in _proposals until it is applied or times out: both find it completed.
            using (cancellation.UnsafeRegister(static state => ((TaskCompletionSource<object>)state!).TrySetException(Cancelled()), tcs))
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
            _ => throw new EtcdException(StatusCode.Internal, "etcdserver: unexpected apply result"),
        };
    }

    /// <summary>Fails the proposals whose deadline has come (on each tick). Loop thread only.</summary>
    private void ExpireProposals()
    {
        var now = Stopwatch.GetTimestamp();
        while (_proposalDeadlines.TryPeek(out var head) && head.Deadline <= now)
        {
            _proposalDeadlines.Dequeue();
            if (_proposals.Remove(head.Id, out var tcs))
                tcs.TrySetException(TimedOut());
        }
    }

    private void CompleteProposal(ulong id, object result)
    {
        if (_proposals.Remove(id, out var tcs))
            tcs.TrySetResult(result);
    }

    private async Task<object> WaitAsync(TaskCompletionSource<object> tcs, Func<bool> forget, CancellationToken cancellation)
    {
        try
        {
            return await tcs.Task.WaitAsync(RequestTimeout, cancellation).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            Post(() => forget());
            throw Cancelled();
        }
        catch (TimeoutException)
        {
            Post(() => forget());
            throw TimedOut();
        }
    }

    /// <summary>
    /// A range read: serializable ones are answered from local state; linearizable ones wait for a
    /// ReadIndex confirmed by the leader and for this member to apply up to it (thesis §6.4).
    /// </summary>
    public Task<RangeResponse> RangeAsync(RangeRequest request, CancellationToken cancellation) =>
        ReadAsync(() => _mvcc.Range(request), request.Serializable, cancellation);

    /// <summary>A txn that only reads (<see cref="ReadOnlyTxn"/>): answered like a range read, without Raft.</summary>
    public Task<TxnResponse> ReadOnlyTxnAsync(TxnRequest request, CancellationToken cancellation) =>
        ReadAsync(() => _mvcc.Txn(request), ReadOnlyTxn.IsSerializable(request), cancellation);

    private async Task<T> ReadAsync<T>(Func<T> query, bool serializable, CancellationToken cancellation)
        where T : class
    {
        var tcs = new TaskCompletionSource<object>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Execute()
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
        if (serializable)
            Post(Execute);
        else
            Post(() => _readBatch.Add(new ClientRead(Execute, e => tcs.TrySetException(e))));
        var result = await WaitAsync(tcs, () => true, cancellation).ConfigureAwait(false);
        return (T)result;
    }

    // How many ReadIndex requests may wait for their answer at once. Reads that arrive meanwhile queue and share
    // the next request, as in etcd's read loop. Each request costs a heartbeat round with every follower (and,
    // from a follower, a round trip to the leader first): one per loop iteration made 2,600–3,700 of them a
    // second at 64 clients, about 4 reads each; one at a time makes 500–750, with 20–25 reads each.
    private const int MaxReadIndexInFlight = 1;

    /// <summary>
    /// One ReadIndex for every linearizable read queued since the last request was made, unless
    /// <see cref="MaxReadIndexInFlight"/> requests still wait for their answer. Returns whether it made one.
    /// </summary>
    private bool FlushReadBatch()
    {
        if (_readBatch.Count == 0 || _pendingReads.Count >= MaxReadIndexInFlight)
            return false;
        var reads = _readBatch.ToList();
        _readBatch.Clear();
        var ctx = ++_readContext;
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, ctx);
        if (!_raft.ReadIndex(bytes))
        {
            // No leader known: fail fast, as etcd does.
            foreach (var read in reads)
                read.Fail(NoLeader());
            return false;
        }
        _pendingReads[ctx] = (_raft.Lead, reads, _loopTicks);
        Interlocked.Increment(ref Metrics.ReadIndexRequests);
        // A request lost on its way is asked again (AskAgainForReadIndex); a leader change fails its reads. The
        // table holds at most MaxReadIndexInFlight requests, so reads a client gave up on cannot pile up in it.
        Debug.Assert(_pendingReads.Count <= MaxReadIndexInFlight);
        return true;
    }

    /// <summary>
    /// Asks again for the read index of reads that have waited <see cref="ReadIndexRetryTicks"/> or more, as
    /// etcd does every 500 ms: the request or its answer may have been lost (a peer stream that was down or
    /// broke), and without a leader change nothing else would answer them before the request timeout. A
    /// duplicate answer finds nothing to complete.
    /// </summary>
    private void AskAgainForReadIndex()
    {
        if (_pendingReads.Count == 0)
            return;
        foreach (var (ctx, pending) in _pendingReads)
        {
            if (_loopTicks - pending.AskedAt >= ReadIndexRetryTicks)
                _readsToAskAgain.Add(ctx);
        }
        foreach (var ctx in _readsToAskAgain)
        {
            var bytes = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, ctx);
            var pending = _pendingReads[ctx];
            if (_raft.Lead != pending.Leader)
            {
                // The leader changed within this loop turn (the change itself is handled with the next Ready): fail
                // the reads as that would, rather than ask the new leader, so the answer does not depend on the order.
                _pendingReads.Remove(ctx);
                var error = LeaderChanged();
                foreach (var read in pending.Reads)
                    read.Fail(error);
                continue;
            }
            if (_raft.ReadIndex(bytes))
                _pendingReads[ctx] = (_raft.Lead, pending.Reads, _loopTicks);
        }
        _readsToAskAgain.Clear();
    }

    private void OnReadState(ReadState rs)
    {
        var ctx = BinaryPrimitives.ReadUInt64LittleEndian(rs.Context.Span);
        if (_pendingReads.Remove(ctx, out var pending))
            _readsAwaitingApply.Add((rs.Index, pending.Reads));
    }

    private void ServeReadyReads()
    {
        for (var i = _readsAwaitingApply.Count - 1; i >= 0; i--)
        {
            var (index, reads) = _readsAwaitingApply[i];
            if (index > _appliedIndex)
                continue;
            _readsAwaitingApply.RemoveAt(i);
            Interlocked.Add(ref Metrics.LinearizableReads, reads.Count);
            foreach (var read in reads)
                read.Execute();
        }
    }

    /// <summary>Runs <paramref name="query"/> on the loop thread against the current state.</summary>
    internal Task<T> QueryAsync<T>(Func<T> query)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() =>
        {
            try
            {
                tcs.TrySetResult(query());
            }
            catch (EtcdException e)
            {
                tcs.TrySetException(e);
            }
        });
        // A loop that has stopped would never run the query (see ProposeAsync).
        if (Volatile.Read(ref _closed))
            tcs.TrySetException(ServerStopped());
        return tcs.Task;
    }

    /// <summary>
    /// Maintenance.HashKV, answered from this member's state like a serializable read. The loop only checks the
    /// revision and takes the state (<see cref="MvccStore.FreezeForHashKV"/>); the hashing, hundreds of
    /// milliseconds for a large store, runs on the thread pool while the loop goes on.
    /// </summary>
    public async Task<HashKVResponse> HashKVAsync(HashKVRequest request, CancellationToken cancellation)
    {
        var (state, revision) = await QueryAsync(() => _mvcc.FreezeForHashKV(request)).WaitAsync(cancellation).ConfigureAwait(false);
        return await Task.Run(() => MvccHash.Respond(state, revision), cancellation).ConfigureAwait(false);
    }

    /// <summary>
    /// True while the applied member table lacks this member's name or client URLs and the last attempt
    /// to publish them is more than a second old (a forwarded proposal can be lost to a leader change).
    /// </summary>
    private bool NeedsAttributes()
    {
        if (Environment.TickCount64 - _attributesProposedAt < 1000)
            return false;
        if (!_members.TryGet(MemberId, out var me))
            return false; // Not a member (yet): nothing to publish.
        return me.Name != _options.Name || me.ClientURLs.Count != _options.AdvertiseClientUrls.Count;
    }

    /// <summary>Publishes this member's name and client URLs through the log, as etcd does.</summary>
    private void PublishOwnAttributes()
    {
        _attributesProposedAt = Environment.TickCount64;
        var attrs = new MemberAttributes { Id = MemberId, Name = _options.Name };
        attrs.ClientUrls.AddRange(_options.AdvertiseClientUrls.Select(u => u.ToString().TrimEnd('/')));
        var request = new InternalRequest { Id = ++_nextRequestId, Attributes = attrs };
        _raft.Propose(request.ToByteArray());
    }

    /// <summary>
    /// The leader changed: reads waiting for a read index from another leader will not get one (a deposed
    /// leader cannot confirm it, and the core drops what it held), so they fail now with etcd's
    /// "leader changed" rather than at the request timeout; clients retry them.
    /// </summary>
    private void FailReadsOfOtherLeaders(ulong leader)
    {
        List<ulong>? stale = null;
        foreach (var (ctx, pending) in _pendingReads)
        {
            if (pending.Leader != leader)
                (stale ??= []).Add(ctx);
        }
        if (stale is null)
            return;
        var error = LeaderChanged();
        foreach (var ctx in stale)
        {
            _pendingReads.Remove(ctx, out var pending);
            foreach (var read in pending.Reads)
                read.Fail(error);
        }
    }

    private void FailAllWaiters(EtcdException error)
    {
        foreach (var tcs in _proposals.Values)
            tcs.TrySetException(error);
        _proposals.Clear();
        _proposalDeadlines.Clear();
        foreach (var tcs in _confChanges.Values)
            tcs.TrySetException(error);
        _confChanges.Clear();
        var reads = _readBatch.Concat(_pendingReads.Values.SelectMany(p => p.Reads)).Concat(_readsAwaitingApply.SelectMany(p => p.Reads)).ToList();
        _readBatch.Clear();
        _pendingReads.Clear();
        _readsAwaitingApply.Clear();
        foreach (var read in reads)
            read.Fail(error);
    }
}
