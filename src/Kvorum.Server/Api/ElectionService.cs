using Grpc.Core;
using Kvorum.Etcd.Api.V3Election;
using Kvorum.Etcd.Errors;
using Kvorum.Etcd.Recipes;

namespace Kvorum.Server.Api;

/// <summary>
/// etcd's Election service (<c>v3electionpb.Election</c>): <see cref="LeaseElection"/> run on this member's own client
/// (<see cref="LoopbackClient"/>). A leadership is carried by the client as its <see cref="LeaderKey"/> (key and
/// creation revision), so Proclaim and Resign resume it from the request. Every failure reaches the client as Unknown
/// with etcd's text.
/// </summary>
internal sealed class ElectionService(LoopbackClient loopback) : Election.ElectionBase
{
    /// <inheritdoc />
    public override Task<CampaignResponse> Campaign(CampaignRequest request, ServerCallContext context) =>
        EtcdCall.RunAsUnknown(async () =>
        {
            var lease = await loopback.SessionLeaseAsync(request.Lease, context.CancellationToken).ConfigureAwait(false);
            var election = new LeaseElection(loopback.RecipesFor(context), request.Name);
            await election.CampaignAsync(lease, request.Value, context.CancellationToken).ConfigureAwait(false);
            return new CampaignResponse
            {
                Header = election.Header,
                Leader = new LeaderKey { Name = request.Name, Key = election.Key, Rev = election.Revision, Lease = lease },
            };
        });

    /// <inheritdoc />
    public override Task<ProclaimResponse> Proclaim(ProclaimRequest request, ServerCallContext context) =>
        EtcdCall.RunAsUnknown(async () =>
        {
            var header = await Resume(request.Leader, context).ProclaimAsync(request.Value, context.CancellationToken).ConfigureAwait(false);
            return new ProclaimResponse { Header = header };
        });

    /// <inheritdoc />
    public override Task<ResignResponse> Resign(ResignRequest request, ServerCallContext context) =>
        EtcdCall.RunAsUnknown(async () =>
        {
            var header = await Resume(request.Leader, context).ResignAsync(context.CancellationToken).ConfigureAwait(false);
            return new ResignResponse { Header = header };
        });

    /// <inheritdoc />
    public override Task<LeaderResponse> Leader(LeaderRequest request, ServerCallContext context) =>
        EtcdCall.RunAsUnknown(async () =>
        {
            var (header, leader) = await new LeaseElection(loopback.RecipesFor(context), request.Name).LeaderAsync(context.CancellationToken).ConfigureAwait(false);
            return new LeaderResponse { Header = header, Kv = leader };
        });

    /// <summary>Sends the current leader (or the first one), each value it proclaims, and each successor.</summary>
    public override async Task Observe(LeaderRequest request, IServerStreamWriter<LeaderResponse> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        var election = new LeaseElection(loopback.RecipesFor(context), request.Name);
        try
        {
            await foreach (var (header, leader) in election.ObserveAsync(context.CancellationToken).ConfigureAwait(false))
                await responseStream.WriteAsync(new LeaderResponse { Header = header, Kv = leader }, context.CancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!context.CancellationToken.IsCancellationRequested && EtcdCall.AsUnknown(e) is { } status && status != e)
        {
            throw status;
        }
    }

    private LeaseElection Resume(LeaderKey? leader, ServerCallContext context) => leader is null
        ? throw new EtcdException(EtcdErrors.LeaderKeyMissing)
        : LeaseElection.Resume(loopback.RecipesFor(context), leader.Name, leader.Key, leader.Rev, leader.Lease);
}
