using System.Buffers.Binary;
using System.Diagnostics;
using Kvorum.Etcd.Errors;

namespace Kvorum.Server.Node;

/// <summary>A linearizable read waiting for its read index: run it, or fail it.</summary>
internal sealed record ClientRead(Action Execute, Action<Exception> Fail);

/// <summary>
/// The linearizable reads waiting on this member (thesis §6.4), from the moment they arrive to the moment they run:
/// queued for the next ReadIndex request, waiting for that request's answer, then waiting for this member to apply up
/// to the read index the answer named. Reads that arrive while a request waits for its answer share the next one, as
/// in etcd's read loop.
/// </summary>
/// <remarks>
/// <para>Owned by the member loop (<see cref="LoopOwner"/>); time is counted in the loop's ticks, passed in.</para>
/// <para>A request is matched to its answer by its context, a number sent as 8 bytes. Contexts start at a number
/// the caller draws at random, not at 0, so that a restarted member does not use its previous run's contexts again:
/// a leader's answer to one of those, still on its way, would complete a new read with an older read index.</para>
/// </remarks>
internal sealed class LinearizableReads
{
    /// <summary>
    /// How many ReadIndex requests may wait for their answer at once. Reads that arrive meanwhile queue and share the
    /// next request, as in etcd's read loop. Each request costs a heartbeat round with every follower (and, from a
    /// follower, a round trip to the leader first): one at a time makes a few times fewer requests than one per loop
    /// iteration, each shared by a few times more reads (measured in docs/benchmarks.md).
    /// </summary>
    public const int MaxInFlight = 1;

    private readonly Func<ReadOnlyMemory<byte>, bool> _askReadIndex;
    private readonly Func<ulong> _leader;
    private readonly int _retryTicks;
    private readonly long _leaderWaitTicks;
    private readonly NodeMetrics _metrics;
    private readonly LoopOwner _owner;

    // In arrival order, with the loop tick each arrived at.
    private readonly List<(ClientRead Read, long QueuedAt)> _queued = [];
    // Requests waiting for their answer, by context, with the leader they were asked of and when (in loop ticks)
    // they last asked. At most MaxInFlight: reads a client gave up on cannot pile up in it.
    private readonly Dictionary<ulong, (ulong Leader, List<ClientRead> Reads, long AskedAt)> _asked = [];
    private readonly List<ulong> _toAskAgain = [];
    private readonly List<(ulong Index, List<ClientRead> Reads)> _awaitingApply = [];
    private ulong _lastContext;

    /// <summary>Creates the queue of one member.</summary>
    /// <param name="askReadIndex">Asks the Raft core for a read index with this context; false when no leader is known.</param>
    /// <param name="leader">The leader the core knows now, 0 for none.</param>
    /// <param name="retryTicks">Ticks after which a request still unanswered is asked again.</param>
    /// <param name="leaderWaitTicks">Ticks a read queued while no leader is known waits for one before it fails with "request timed out".</param>
    /// <param name="firstContext">The context before the first one used (see the remarks).</param>
    /// <param name="metrics">Where requests made and reads served are counted.</param>
    /// <param name="owner">The loop that owns the queue; a test passes none.</param>
    public LinearizableReads(Func<ReadOnlyMemory<byte>, bool> askReadIndex, Func<ulong> leader, int retryTicks, long leaderWaitTicks, ulong firstContext, NodeMetrics metrics, LoopOwner? owner = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(retryTicks);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(leaderWaitTicks);
        _leaderWaitTicks = leaderWaitTicks;
        _askReadIndex = askReadIndex;
        _leader = leader;
        _retryTicks = retryTicks;
        _lastContext = firstContext;
        _metrics = metrics;
        _owner = owner ?? new LoopOwner();
    }

    /// <summary>Reads queued for the next request.</summary>
    public int Queued => _queued.Count;

    /// <summary>Requests waiting for their answer.</summary>
    public int InFlight => _asked.Count;

    /// <summary>Reads whose read index is known, waiting for this member to apply up to it.</summary>
    public int AwaitingApply => _awaitingApply.Sum(p => p.Reads.Count);

    /// <summary>Queues <paramref name="read"/>, arrived at loop tick <paramref name="now"/>, for the next ReadIndex request.</summary>
    public void Enqueue(ClientRead read, long now)
    {
        _owner.AssertOwned();
        _queued.Add((read, now));
    }

    /// <summary>
    /// Makes one ReadIndex request for every read queued since the last one, at loop tick <paramref name="now"/>,
    /// unless <see cref="MaxInFlight"/> requests still wait for their answer. With no leader known, the reads stay
    /// queued for one, as etcd's wait for theirs, and fail with "request timed out" when they have waited the leader
    /// wait (<see cref="AskAgain"/>). Returns whether it made a request.
    /// </summary>
    public bool Flush(long now)
    {
        _owner.AssertOwned();
        if (_queued.Count == 0 || _asked.Count >= MaxInFlight)
            return false;
        var context = _lastContext + 1;
        if (!_askReadIndex(Encode(context)))
            return false;
        _lastContext = context;
        var reads = _queued.ConvertAll(q => q.Read);
        _queued.Clear();
        _asked[context] = (_leader(), reads, now);
        Interlocked.Increment(ref _metrics.ReadIndexRequests);
        Debug.Assert(_asked.Count <= MaxInFlight);
        return true;
    }

    /// <summary>
    /// Asks again, at loop tick <paramref name="now"/>, for the read index of requests unanswered for the retry
    /// interval, as etcd does every 500 ms: the request or its answer may have been lost (a peer stream that was down
    /// or broke), and without a leader change nothing else would answer them before the request timeout. A duplicate
    /// answer finds nothing to complete. A request whose leader changed within this loop turn (the change itself is
    /// handled with the next Ready) fails with "leader changed" as that change would fail it, rather than being asked
    /// of the new leader, so that the answer does not depend on the order. Reads queued while no leader is known fail
    /// once they have waited the leader wait.
    /// </summary>
    public void AskAgain(long now)
    {
        _owner.AssertOwned();
        ExpireQueued(now);
        if (_asked.Count == 0)
            return;
        foreach (var (context, asked) in _asked)
        {
            if (now - asked.AskedAt >= _retryTicks)
                _toAskAgain.Add(context);
        }
        foreach (var context in _toAskAgain)
        {
            var asked = _asked[context];
            if (_leader() != asked.Leader)
            {
                _asked.Remove(context);
                var error = new EtcdException(EtcdErrors.LeaderChanged);
                foreach (var read in asked.Reads)
                    read.Fail(error);
                continue;
            }
            if (_askReadIndex(Encode(context)))
                _asked[context] = (_leader(), asked.Reads, now);
        }
        _toAskAgain.Clear();
    }

    /// <summary>The answer to a request: its reads run once this member has applied up to <paramref name="index"/>.</summary>
    public void OnReadState(ReadOnlySpan<byte> context, ulong index)
    {
        _owner.AssertOwned();
        if (_asked.Remove(BinaryPrimitives.ReadUInt64LittleEndian(context), out var asked))
            _awaitingApply.Add((index, asked.Reads));
    }

    /// <summary>Runs the reads whose read index is at most <paramref name="applied"/>.</summary>
    public void ServeApplied(ulong applied)
    {
        _owner.AssertOwned();
        for (var i = _awaitingApply.Count - 1; i >= 0; i--)
        {
            var (index, reads) = _awaitingApply[i];
            if (index > applied)
                continue;
            _awaitingApply.RemoveAt(i);
            Interlocked.Add(ref _metrics.LinearizableReads, reads.Count);
            foreach (var read in reads)
                read.Execute();
        }
    }

    /// <summary>Fails with "request timed out" the queued reads that have waited the leader wait by tick <paramref name="now"/>.</summary>
    private void ExpireQueued(long now)
    {
        var expired = 0;
        while (expired < _queued.Count && now - _queued[expired].QueuedAt >= _leaderWaitTicks)
            expired++;
        if (expired == 0)
            return;
        var error = new EtcdException(EtcdErrors.TimedOut);
        for (var i = 0; i < expired; i++)
            _queued[i].Read.Fail(error);
        _queued.RemoveRange(0, expired);
    }

    /// <summary>
    /// The leader is now <paramref name="leader"/>: requests asked of another will get no answer (a deposed leader
    /// cannot confirm one, and the core drops what it held), so their reads fail now with etcd's "leader changed"
    /// rather than at the request timeout; clients retry them.
    /// </summary>
    public void FailOtherLeaders(ulong leader)
    {
        _owner.AssertOwned();
        List<ulong>? stale = null;
        foreach (var (context, asked) in _asked)
        {
            if (asked.Leader != leader)
                (stale ??= []).Add(context);
        }
        if (stale is null)
            return;
        var error = new EtcdException(EtcdErrors.LeaderChanged);
        foreach (var context in stale)
        {
            _asked.Remove(context, out var asked);
            foreach (var read in asked.Reads)
                read.Fail(error);
        }
    }

    /// <summary>Fails every read, wherever it waits, with <paramref name="error"/> (the member stops).</summary>
    public void FailAll(EtcdException error)
    {
        _owner.AssertOwned();
        var reads = _queued.Select(q => q.Read).Concat(_asked.Values.SelectMany(p => p.Reads)).Concat(_awaitingApply.SelectMany(p => p.Reads)).ToList();
        _queued.Clear();
        _asked.Clear();
        _awaitingApply.Clear();
        foreach (var read in reads)
            read.Fail(error);
    }

    private static byte[] Encode(ulong context)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, context);
        return bytes;
    }
}
