using Grpc.Core;
using Kvorum.Raft;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Node;

namespace Kvorum.Server.Api;

/// <summary>
/// etcd's Maintenance service: Status, HashKV, MoveLeader, Alarm (NOSPACE), Snapshot (a backup in Kvorum's own
/// format), Defragment (a documented no-op). Hash and Downgrade answer Unimplemented, saying why.
/// </summary>
internal sealed class MaintenanceService(KvorumNode node, ServerOptions options) : Maintenance.MaintenanceBase
{
    /// <summary>The version reported to clients: etcd's API level, so etcdctl treats us as a 3.5 server.</summary>
    public const string Version = "3.5.0";

    public override Task<StatusResponse> Status(StatusRequest request, ServerCallContext context)
    {
        var s = node.Status;
        var (onDisk, inUse) = node.StorageSizes();
        return Task.FromResult(new StatusResponse
        {
            Header = ResponseHeaders.Fill(null, node),
            Version = Version,
            DbSize = onDisk,
            DbSizeInUse = inUse,
            Leader = s.Leader,
            RaftIndex = s.Commit, // etcd: "the current raft committed index of the responding member"
            RaftTerm = s.Term,
            RaftAppliedIndex = s.Applied,
            IsLearner = s.IsLearner,
            DbSizeQuota = options.QuotaBackendBytes == long.MaxValue ? 0 : options.QuotaBackendBytes,
            Errors = { StatusErrors(s.Leader) },
        });
    }

    /// <summary>What etcd lists in a Status's errors: no leader, and each alarm raised (as <c>etcdctl alarm list</c> prints it).</summary>
    private List<string> StatusErrors(ulong leader)
    {
        var errors = new List<string>();
        if (leader == 0)
            errors.Add(EtcdErrors.NoLeader.Message);
        if (node.NoSpaceAlarm)
            errors.Add($"memberID:{node.MemberId} alarm:NOSPACE");
        return errors;
    }

    public override Task<MoveLeaderResponse> MoveLeader(MoveLeaderRequest request, ServerCallContext context) =>
        EtcdCall.Run(async () =>
        {
            if (node.Status.Role != StateRole.Leader)
                throw new EtcdException(EtcdErrors.NotLeader);
            await node.MoveLeaderAsync(request.TargetID, context.CancellationToken).ConfigureAwait(false);
            return new MoveLeaderResponse { Header = ResponseHeaders.Fill(null, node) };
        });

    /// <summary>
    /// etcd's alarms, of which Kvorum raises one: NOSPACE, this member's own (see <c>Node/BackendQuota.cs</c>).
    /// GET lists it while raised; ACTIVATE and DEACTIVATE of NOSPACE for this member (or member 0) raise and clear
    /// it, and answer with the alarm they changed. Other alarm types are never raised here.
    /// </summary>
    public override Task<AlarmResponse> Alarm(AlarmRequest request, ServerCallContext context)
    {
        var response = new AlarmResponse { Header = ResponseHeaders.Fill(null, node) };
        var mine = new AlarmMember { MemberID = node.MemberId, Alarm = AlarmType.Nospace };
        var aboutMine = request.MemberID == 0 || request.MemberID == node.MemberId;
        switch (request.Action)
        {
            case AlarmRequest.Types.AlarmAction.Get:
                if (node.NoSpaceAlarm && request.Alarm is AlarmType.None or AlarmType.Nospace)
                    response.Alarms.Add(mine);
                break;
            case AlarmRequest.Types.AlarmAction.Activate when aboutMine && request.Alarm == AlarmType.Nospace:
                if (!node.SetNoSpaceAlarm(true))
                    response.Alarms.Add(mine);
                break;
            case AlarmRequest.Types.AlarmAction.Deactivate when aboutMine && request.Alarm is AlarmType.None or AlarmType.Nospace:
                if (node.SetNoSpaceAlarm(false))
                    response.Alarms.Add(mine);
                break;
        }
        return Task.FromResult(response);
    }

    /// <summary>Kvorum keeps its state machine in memory and compacts its log by snapshots: nothing to defragment.</summary>
    public override Task<DefragmentResponse> Defragment(DefragmentRequest request, ServerCallContext context) =>
        Task.FromResult(new DefragmentResponse { Header = ResponseHeaders.Fill(null, node) });

    /// <summary>A CRC-32 of the kept history up to a revision, to compare members (<c>etcdctl endpoint hashkv</c>).</summary>
    public override Task<HashKVResponse> HashKV(HashKVRequest request, ServerCallContext context) =>
        EtcdCall.Run(async () =>
        {
            var response = await node.HashKVAsync(request, context.CancellationToken).ConfigureAwait(false);
            response.Header = ResponseHeaders.Fill(response.Header, node);
            return response;
        });

    /// <summary>etcd's Hash is of its bbolt file, for its own tests; Kvorum has no such file.</summary>
    public override Task<HashResponse> Hash(HashRequest request, ServerCallContext context) =>
        throw EtcdCall.ToRpcException(EtcdErrors.HashUnsupported);

    /// <summary>Bytes of backup per message; etcd sends 32 KiB.</summary>
    internal const int SnapshotChunkBytes = 64 * 1024;

    /// <summary>While a backup is being written, an empty message goes out this often.</summary>
    internal static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A backup of this member's state machine (<see cref="Backup.BackupFile"/>), in chunks, each with the bytes still
    /// to come, the last being the SHA-256 of the others, as etcd streams its database file. <c>etcdctl snapshot save</c>
    /// and <c>kvorum snapshot save</c> both keep it; <c>kvorum snapshot restore</c> starts a new cluster from it.
    /// </summary>
    public override Task Snapshot(SnapshotRequest request, IServerStreamWriter<SnapshotResponse> responseStream, ServerCallContext context) =>
        EtcdCall.Run(async () =>
        {
            var cancellation = context.CancellationToken;
            var header = ResponseHeaders.Fill(null, node);
            var writing = node.WriteBackupAsync(cancellation);
            FileStream? backup = null;
            try
            {
                // A large state takes seconds to write out before its first byte can be sent: meanwhile an empty
                // message each second tells the client that the member is at work, so its timeout between messages holds.
                while (await Task.WhenAny(writing, Task.Delay(KeepAliveInterval, cancellation)).ConfigureAwait(false) != writing)
                {
                    await responseStream.WriteAsync(new SnapshotResponse { Header = header }, cancellation).ConfigureAwait(false);
                    header = null;
                }
                try
                {
                    backup = await writing.ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new EtcdException(EtcdErrors.BackupNotWritten(e.Message));
                }
                var buffer = new byte[SnapshotChunkBytes];
                var remaining = backup.Length;
                while (remaining > 0)
                {
                    var read = await backup.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), cancellation).ConfigureAwait(false);
                    if (read == 0)
                        throw new IOException("the backup file ended early");
                    remaining -= read;
                    await responseStream.WriteAsync(new SnapshotResponse
                    {
                        Header = header,
                        RemainingBytes = (ulong)remaining,
                        Blob = Google.Protobuf.ByteString.CopyFrom(buffer, 0, read),
                    }, cancellation).ConfigureAwait(false);
                    header = null;
                }
            }
            finally
            {
                if (backup is not null)
                    await backup.DisposeAsync().ConfigureAwait(false); // deletes the temporary file
                else
                    _ = writing.ContinueWith(static t =>
                    {
                        if (t.IsCompletedSuccessfully)
                            t.Result.Dispose();
                    }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            }
            return true;
        });

    public override Task<DowngradeResponse> Downgrade(DowngradeRequest request, ServerCallContext context) =>
        throw EtcdCall.ToRpcException(EtcdErrors.DowngradeUnsupported);
}
