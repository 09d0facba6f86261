using Grpc.Core;
using Kvorum.Raft;
using Kvorum.Server.Etcd;
using Kvorum.Server.Node;

namespace Kvorum.Server.Api;

/// <summary>etcd's Maintenance service: Status, MoveLeader, Alarm (none), Defragment (a documented no-op).</summary>
internal sealed class MaintenanceService(KvorumNode node) : Maintenance.MaintenanceBase
{
    /// <summary>The version reported to clients: etcd's API level, so etcdctl treats us as a 3.5 server.</summary>
    public const string Version = "3.5.0";

    public override Task<StatusResponse> Status(StatusRequest request, ServerCallContext context)
    {
        var s = node.Status;
        return Task.FromResult(new StatusResponse
        {
            Header = ResponseHeaders.Fill(null, node),
            Version = Version,
            DbSize = 0,
            DbSizeInUse = 0,
            Leader = s.Leader,
            RaftIndex = s.LastIndex,
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
}
