using Kvorum.Raft;
using Kvorum.Etcd.Api;

namespace Kvorum.Server.Node;

/// <summary>
/// A new cluster's first members, from <see cref="ServerOptions.InitialCluster"/>, and the ConfChange entries every one
/// of them starts its log with (as etcd bootstraps): a new member (<c>KvorumNode.Restore</c>) and a restored one
/// (<c>Backup/BackupRestore.cs</c>) write the same.
/// </summary>
internal static class InitialMembers
{
    /// <summary>The members named by the options, ordered by id, with their names and peer URLs.</summary>
    public static List<Member> Of(ServerOptions options) =>
        [.. options.InitialCluster
            .Select(kv =>
            {
                var member = new Member { ID = MemberIdentity.MemberId(kv.Value, options.InitialClusterToken), Name = kv.Key };
                member.PeerURLs.AddRange(kv.Value.Select(u => u.ToString().TrimEnd('/')));
                return member;
            })
            .OrderBy(m => m.ID)];

    /// <summary>One AddVoter per member, its <see cref="Member"/> record as context (the server's member table).</summary>
    public static IEnumerable<ConfChange> Changes(IEnumerable<Member> members) =>
        members.Select(m => new ConfChange(ConfChangeType.AddVoter, m.ID, Google.Protobuf.MessageExtensions.ToByteArray(m)));
}
