using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Mvcc;
using Microsoft.Extensions.Logging;

namespace Kvorum.Server.Node;

/// <summary>
/// The backend quota (<c>--quota-backend-bytes</c>) and etcd's NOSPACE alarm. A write that would take the store past
/// the quota is refused with etcd's "database space exceeded" and raises the alarm; while the alarm is raised, every
/// write that puts a key is refused, and deletes, compactions and reads go on, so that space can be freed. The alarm
/// stays until it is disarmed (<c>etcdctl alarm disarm</c>), as in etcd.
/// </summary>
/// <remarks>
/// <para>The member that takes a client's write checks it before proposing it; the applied state never depends on the
/// quota, so members configured with different quotas cannot diverge. Unlike etcd's, the alarm is this member's own:
/// it is not replicated, and a restart clears it (a write over the quota raises it again). Also unlike etcd's, the cost
/// of a transaction counts the puts of its nested transactions: etcd counts only the top level's, so a put nested one
/// level down passes its quota and its alarm.</para>
/// <para>Threads: the member loop publishes the store's size (<see cref="PublishStoreSize"/>, asserted with its
/// <see cref="LoopOwner"/>); request threads check writes and raise or clear the alarm, lock-free.</para>
/// </remarks>
internal sealed partial class BackendQuota
{
    private readonly long _quotaBytes;
    private readonly ILogger _log;
    private readonly LoopOwner _owner;

    // The store's size as of the last applied entry (MvccStore.SizeBytes), published by the loop for request threads.
    private long _storeBytes;

    private volatile bool _noSpace;

    /// <summary>A quota of <paramref name="quotaBytes"/>; a test passes no <paramref name="owner"/>.</summary>
    public BackendQuota(long quotaBytes, ILogger log, LoopOwner? owner = null)
    {
        _quotaBytes = quotaBytes;
        _log = log;
        _owner = owner ?? new LoopOwner();
    }

    /// <summary>The store's size as the quota measures it, as of the last entry applied here.</summary>
    public long StoreBytes => Volatile.Read(ref _storeBytes);

    /// <summary>True while this member's NOSPACE alarm is raised.</summary>
    public bool NoSpaceAlarm => _noSpace;

    /// <summary>The store's size after the loop applied an entry (or replaced the state).</summary>
    public void PublishStoreSize(long bytes)
    {
        _owner.AssertOwned();
        Volatile.Write(ref _storeBytes, bytes);
    }

    /// <summary>
    /// Refuses a write that adds <paramref name="cost"/> bytes (<see cref="QuotaCost(PutRequest)"/>) when it would take
    /// the store past the quota, and raises the NOSPACE alarm. A write that adds nothing (a delete, a compaction)
    /// always passes. As etcd's quota check, this looks at sizes only; <see cref="CheckNoSpaceAlarm"/> comes after the
    /// request's own checks.
    /// </summary>
    /// <exception cref="EtcdException">etcd's "database space exceeded" (ResourceExhausted).</exception>
    public void CheckQuota(long cost)
    {
        if (cost == 0)
            return;
        var size = StoreBytes;
        if (size + cost <= _quotaBytes)
            return;
        if (!SetNoSpaceAlarm(true))
            LogNoSpace(_log, size, _quotaBytes);
        throw new EtcdException(EtcdErrors.NoSpace);
    }

    /// <summary>Refuses a write that adds anything (<paramref name="cost"/> above 0) while the NOSPACE alarm is raised.</summary>
    /// <exception cref="EtcdException">etcd's "database space exceeded" (ResourceExhausted).</exception>
    public void CheckNoSpaceAlarm(long cost)
    {
        if (cost != 0 && _noSpace)
            throw new EtcdException(EtcdErrors.NoSpace);
    }

    /// <summary>Raises or clears this member's NOSPACE alarm (etcd's Alarm ACTIVATE and DEACTIVATE); returns what it was.</summary>
    public bool SetNoSpaceAlarm(bool raised)
    {
        var was = _noSpace;
        _noSpace = raised;
        if (was && !raised)
            LogNoSpaceDisarmed(_log, StoreBytes, _quotaBytes);
        return was;
    }

    /// <summary>
    /// What a request adds to the store as the quota counts it: for a put, its key, its value and
    /// <see cref="KeyIndex.EntryOverhead"/>; for a transaction, the larger of its two branches (only one runs),
    /// nested transactions included; 0 for anything else.
    /// </summary>
    public static long QuotaCost(PutRequest put)
    {
        ArgumentNullException.ThrowIfNull(put);
        return put.Key.Length + put.Value.Length + KeyIndex.EntryOverhead;
    }

    /// <inheritdoc cref="QuotaCost(PutRequest)"/>
    public static long QuotaCost(TxnRequest txn)
    {
        ArgumentNullException.ThrowIfNull(txn);
        return Math.Max(BranchCost(txn.Success), BranchCost(txn.Failure));

        static long BranchCost(IEnumerable<RequestOp> ops)
        {
            long cost = 0;
            foreach (var op in ops)
            {
                cost += op.RequestCase switch
                {
                    RequestOp.RequestOneofCase.RequestPut => QuotaCost(op.RequestPut),
                    RequestOp.RequestOneofCase.RequestTxn => QuotaCost(op.RequestTxn),
                    _ => 0,
                };
            }
            return cost;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "alarm NOSPACE raised: the store holds {Bytes} bytes and its quota (--quota-backend-bytes) is {Quota}; writes are refused until history is compacted or keys deleted, and the alarm disarmed (etcdctl alarm disarm)")]
    private static partial void LogNoSpace(ILogger log, long bytes, long quota);

    [LoggerMessage(Level = LogLevel.Information, Message = "alarm NOSPACE disarmed: the store holds {Bytes} bytes, its quota is {Quota}")]
    private static partial void LogNoSpaceDisarmed(ILogger log, long bytes, long quota);
}
