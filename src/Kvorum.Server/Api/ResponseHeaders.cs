using Kvorum.Etcd.Api;
using Kvorum.Server.Node;

namespace Kvorum.Server.Api;

/// <summary>Fills etcd's response header: cluster id, member id, revision and raft term.</summary>
internal static class ResponseHeaders
{
    public static ResponseHeader Fill(ResponseHeader? header, KvorumNode node)
    {
        header ??= new ResponseHeader();
        var status = node.Status;
        header.ClusterId = node.ClusterId;
        header.MemberId = node.MemberId;
        header.RaftTerm = status.Term;
        if (header.Revision == 0)
            header.Revision = status.Revision;
        return header;
    }

    /// <summary>The Cluster service's header, as etcd's: cluster id, member id and raft term, no revision.</summary>
    public static ResponseHeader ForCluster(KvorumNode node) =>
        new() { ClusterId = node.ClusterId, MemberId = node.MemberId, RaftTerm = node.Status.Term };
}
