using Grpc.Core;
using Kvorum.Raft;
using Kvorum.Server.Etcd;
using Kvorum.Server.Node;

namespace Kvorum.Server.Api;

/// <summary>
/// etcd's Maintenance service: Status, HashKV, MoveLeader, Alarm (none), Defragment (a documented no-op). Hash,
/// Snapshot and Downgrade answer Unimplemented, saying why.
/// </summary>
internal sealed class MaintenanceService(KvorumNode node) : Maintenance.MaintenanceBase
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
        });
    }

    public override Task<MoveLeaderResponse> MoveLeader(MoveLeaderRequest request, ServerCallContext context) =>
        EtcdCall.Run(async () =>
        {
            if (node.Status.Role != StateRole.Leader)
                throw new Mvcc.EtcdException(StatusCode.FailedPrecondition, "etcdserver: not leader");
            await node.MoveLeaderAsync(request.TargetID, context.CancellationToken).ConfigureAwait(false);
            return new MoveLeaderResponse { Header = ResponseHeaders.Fill(null, node) };
        });

    public override Task<AlarmResponse> Alarm(AlarmRequest request, ServerCallContext context) =>
        Task.FromResult(new AlarmResponse { Header = ResponseHeaders.Fill(null, node) });

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
        throw new RpcException(new Status(StatusCode.Unimplemented, "kvorum: Hash hashes etcd's database file, which Kvorum does not have; use HashKV (etcdctl endpoint hashkv)"));

    /// <summary>etcd's snapshot is its bbolt file, which <c>etcdctl snapshot restore</c> reads; Kvorum's would not restore there.</summary>
    public override Task Snapshot(SnapshotRequest request, IServerStreamWriter<SnapshotResponse> responseStream, ServerCallContext context) =>
        throw new RpcException(new Status(StatusCode.Unimplemented, "kvorum: Snapshot is not implemented: etcdctl snapshot restore expects etcd's database file, which Kvorum does not have"));

    public override Task<DowngradeResponse> Downgrade(DowngradeRequest request, ServerCallContext context) =>
        throw new RpcException(new Status(StatusCode.Unimplemented, "kvorum: Downgrade is not implemented: Kvorum has a single storage version"));
}
