using Grpc.Core;
using Kvorum.Raft;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Node;
using Kvorum.Server.Node.Wire;
using Google.Protobuf;

namespace Kvorum.Server.Api;

/// <summary>etcd's Cluster service, through single-server Raft membership changes (thesis §4.1).</summary>
internal sealed class ClusterService(KvorumNode node, ServerOptions options) : Kvorum.Etcd.Api.Cluster.ClusterBase
{
    public override Task<MemberListResponse> MemberList(MemberListRequest request, ServerCallContext context) =>
        EtcdCall.Run(async () =>
        {
            var members = await node.MembersAsync(request.Linearizable, context.CancellationToken).ConfigureAwait(false);
            var response = new MemberListResponse { Header = ResponseHeaders.ForCluster(node) };
            response.Members.AddRange(members);
            return response;
        });

    public override Task<MemberAddResponse> MemberAdd(MemberAddRequest request, ServerCallContext context) =>
        EtcdCall.Run(async () =>
        {
            if (request.PeerURLs.Count == 0)
                throw new EtcdException(EtcdErrors.PeerUrlsNotProvided);
            var urls = request.PeerURLs.Select(ParseUrl).ToArray();
            var member = new Member { ID = MemberIdentity.MemberId(urls, options.InitialClusterToken), IsLearner = request.IsLearner };
            member.PeerURLs.AddRange(urls.Select(u => u.ToString().TrimEnd('/')));
            // The member table's checks (peer URL taken, id taken, too many learners) are made after the strict
            // reconfiguration check, in etcd's order (MembershipRequests.Refusal).
            var type = request.IsLearner ? ConfChangeType.AddLearner : ConfChangeType.AddVoter;
            var members = await node.ChangeMembershipAsync(new ConfChange(type, member.ID, member.ToByteArray()), context.CancellationToken).ConfigureAwait(false);
            var response = new MemberAddResponse { Header = ResponseHeaders.ForCluster(node), Member = member };
            response.Members.AddRange(members);
            return response;
        });

    public override Task<MemberRemoveResponse> MemberRemove(MemberRemoveRequest request, ServerCallContext context) =>
        EtcdCall.Run(async () =>
        {
            var members = await node.ChangeMembershipAsync(new ConfChange(ConfChangeType.RemoveNode, request.ID), context.CancellationToken).ConfigureAwait(false);
            var response = new MemberRemoveResponse { Header = ResponseHeaders.ForCluster(node) };
            response.Members.AddRange(members);
            return response;
        });

    public override Task<MemberPromoteResponse> MemberPromote(MemberPromoteRequest request, ServerCallContext context) =>
        EtcdCall.Run(async () =>
        {
            // Judged by the leader (whether the learner is in sync), then the member table's checks: KvorumNode.Promotion.cs.
            var members = await node.PromoteMemberAsync(request.ID, context.CancellationToken).ConfigureAwait(false);
            var response = new MemberPromoteResponse { Header = ResponseHeaders.ForCluster(node) };
            response.Members.AddRange(members);
            return response;
        });

    public override Task<MemberUpdateResponse> MemberUpdate(MemberUpdateRequest request, ServerCallContext context) =>
        EtcdCall.Run(async () =>
        {
            var known = await node.MembersAsync().ConfigureAwait(false);
            if (!known.Any(m => m.ID == request.ID))
                throw new EtcdException(EtcdErrors.MemberNotFound);
            var attrs = new MemberAttributes { Id = request.ID };
            attrs.PeerUrls.AddRange(request.PeerURLs.Select(u => ParseUrl(u).ToString().TrimEnd('/')));
            // As etcd: no two members may share a peer URL (the peers would dial the wrong member).
            if (known.Any(m => m.ID != request.ID && m.PeerURLs.Intersect(attrs.PeerUrls).Any()))
                throw new EtcdException(EtcdErrors.PeerUrlExists);
            await node.ProposeAsync<Member>(new InternalRequest { Attributes = attrs }, context.CancellationToken).ConfigureAwait(false);
            var response = new MemberUpdateResponse { Header = ResponseHeaders.ForCluster(node) };
            response.Members.AddRange(await node.MembersAsync().ConfigureAwait(false));
            return response;
        });

    private static Uri ParseUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var u) && (u.Scheme == "http" || u.Scheme == "https")
            ? u
            : throw new EtcdException(EtcdErrors.InvalidPeerUrl(url));
}
