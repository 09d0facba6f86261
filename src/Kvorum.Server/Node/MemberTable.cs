using Kvorum.Server.Etcd;

namespace Kvorum.Server.Node;

/// <summary>
/// The cluster's members with their names and URLs, as the applied log says. The Raft core knows only
/// ids; this table is the etcd-facing view, changed by applying ConfChange entries (whose context is an
/// encoded <see cref="Member"/>) and attribute updates.
/// </summary>
internal sealed class MemberTable
{
    private readonly SortedDictionary<ulong, Member> _members = [];

    public IEnumerable<Member> All => _members.Values;

    public bool TryGet(ulong id, out Member member) => _members.TryGetValue(id, out member!);

    public void Upsert(Member member) => _members[member.ID] = member;

    public bool Remove(ulong id) => _members.Remove(id);

    public void Clear() => _members.Clear();

    /// <summary>Peer URLs of every member but <paramref name="self"/>.</summary>
    public IEnumerable<(ulong Id, IReadOnlyList<Uri> Urls)> Peers(ulong self) =>
        _members.Values.Where(m => m.ID != self)
            .Select(m => (m.ID, (IReadOnlyList<Uri>)m.PeerURLs.Select(u => new Uri(u)).ToArray()));
}
