using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Node;

/// <summary>
/// What the Maintenance service and the operator ask of the member beside reads and writes: the backend quota and its
/// NOSPACE alarm (<see cref="BackendQuota"/>), backups (<see cref="BackupWriter"/>), the storage's sizes, and
/// auto-compaction (<see cref="AutoCompactor"/>).
/// </summary>
internal sealed partial class KvorumNode
{
    private Task _autoCompacting = Task.CompletedTask;

    /// <inheritdoc cref="BackendQuota.StoreBytes"/>
    public long StoreBytes => _quota.StoreBytes;

    /// <inheritdoc cref="BackendQuota.NoSpaceAlarm"/>
    public bool NoSpaceAlarm => _quota.NoSpaceAlarm;

    /// <inheritdoc cref="BackendQuota.CheckQuota"/>
    public void CheckQuota(long cost) => _quota.CheckQuota(cost);

    /// <inheritdoc cref="BackendQuota.CheckNoSpaceAlarm"/>
    public void CheckNoSpaceAlarm(long cost) => _quota.CheckNoSpaceAlarm(cost);

    /// <inheritdoc cref="BackendQuota.SetNoSpaceAlarm"/>
    public bool SetNoSpaceAlarm(bool raised) => _quota.SetNoSpaceAlarm(raised);

    /// <inheritdoc cref="BackendQuota.QuotaCost(PutRequest)"/>
    public static long QuotaCost(PutRequest put) => BackendQuota.QuotaCost(put);

    /// <inheritdoc cref="BackendQuota.QuotaCost(TxnRequest)"/>
    public static long QuotaCost(TxnRequest txn) => BackendQuota.QuotaCost(txn);

    /// <summary>
    /// Writes a backup of this member's state machine as it is now (<see cref="BackupWriter"/>) and returns it open at
    /// its start; it is deleted when the stream is closed. Like etcd's Snapshot, it holds what this member has applied,
    /// without asking the leader. The loop only takes the state (as for a Raft snapshot).
    /// </summary>
    /// <param name="cancellation">Stops the writing.</param>
    /// <returns>The backup, open for reading, positioned at 0.</returns>
    /// <exception cref="EtcdException">Another backup is being sent (Unavailable), or the disk has no room for one (ResourceExhausted).</exception>
    public Task<FileStream> WriteBackupAsync(CancellationToken cancellation) =>
        _backups.WriteAsync(_quota.StoreBytes, () => QueryAsync(CaptureStateMachine), cancellation);

    /// <summary>
    /// What Maintenance.Status reports as etcd's <c>db_size</c> and <c>db_size_in_use</c>. Kvorum has no database
    /// file: the first is every file in the data directory (WAL segments, preallocated, and snapshots); the second
    /// is what of it a restart needs, the current snapshot's size plus the bytes of the entries applied since.
    /// </summary>
    /// <returns>Both sizes in bytes.</returns>
    public (long OnDisk, long InUse) StorageSizes() => (_backups.StorageBytesOnDisk(), _snapshots.BytesInUse);

    private void StartAutoCompaction()
    {
        if (AutoCompactor.PolicyOf(_options) is not { } policy)
            return;
        var interval = _options.AutoCompactionCheckInterval ?? policy.CheckInterval;
        var compactor = new AutoCompactor(policy, () => Status, (revision, stop) =>
            ProposeAsync<CompactionResponse>(new InternalRequest { Compaction = new CompactionRequest { Revision = revision } }, stop), _log);
        _autoCompacting = Task.Run(() => compactor.RunAsync(interval, _stop.Token));
    }
}
