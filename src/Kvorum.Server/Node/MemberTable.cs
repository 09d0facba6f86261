using Kvorum.Raft;
using Kvorum.Etcd.Api;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Node;

/// <summary>
/// The cluster's members with their names and URLs, as the applied log says. The Raft core knows only
/// ids; this table is the etcd-facing view, changed by applying ConfChange entries (whose context is an
/// encoded <see cref="Member"/>) and attribute updates. The member loop applies them as they commit
/// (<see cref="StateMachine"/>, <c>KvorumNode.Apply.cs</c>); a start replays them to learn whom a data directory belongs to
/// (<see cref="RecordedMembership"/>).
/// </summary>
internal sealed class MemberTable
{
    private readonly SortedDictionary<ulong, Member> _members = [];

    public IEnumerable<Member> All => _members.Values;

    public bool TryGet(ulong id, out Member member) => _members.TryGetValue(id, out member!);

    public void Upsert(Member member) => _members[member.ID] = member;

    public void Clear() => _members.Clear();

    /// <summary>A committed ConfChange's effect on the table; returns the member it added, or null.</summary>
    public Member? Apply(ConfChange cc)
    {
        switch (cc.Type)
        {
            case ConfChangeType.AddVoter when _members.TryGetValue(cc.NodeId, out var existing):
                existing.IsLearner = false; // a learner's promotion
                return null;
            case ConfChangeType.AddVoter:
            case ConfChangeType.AddLearner:
                var member = cc.Context.IsEmpty ? new Member() : Member.Parser.ParseFrom(cc.Context.Span);
                member.ID = cc.NodeId;
                member.IsLearner = cc.Type == ConfChangeType.AddLearner;
                _members[member.ID] = member;
                return member;
            case ConfChangeType.RemoveNode:
                _members.Remove(cc.NodeId);
                return null;
            default:
                return null;
        }
    }

    /// <summary>Published attributes (a member's name and client URLs, or new peer URLs from MemberUpdate); returns the member, or null when unknown.</summary>
    public Member? Apply(MemberAttributes a)
    {
        if (!_members.TryGetValue(a.Id, out var m))
            return null;
        if (a.Name.Length > 0)
            m.Name = a.Name;
        if (a.ClientUrls.Count > 0)
        {
            m.ClientURLs.Clear();
            m.ClientURLs.AddRange(a.ClientUrls);
        }
        if (a.PeerUrls.Count > 0)
        {
            m.PeerURLs.Clear();
            m.PeerURLs.AddRange(a.PeerUrls);
        }
        return m;
    }

    /// <summary>Peer URLs of every member but <paramref name="self"/>.</summary>
    public IEnumerable<(ulong Id, IReadOnlyList<Uri> Urls)> Peers(ulong self) =>
        _members.Values.Where(m => m.ID != self)
            .Select(m => (m.ID, (IReadOnlyList<Uri>)m.PeerURLs.Select(u => new Uri(u)).ToArray()));
}
