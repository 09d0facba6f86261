using Kvorum.Raft;
using Kvorum.Etcd.Api;
using Kvorum.Server.Node.Wire;
using Kvorum.Storage;

namespace Kvorum.Server.Node;

/// <summary>
/// Whom a data directory says it belongs to, read without changing anything in it: the member and cluster ids it records
/// (<see cref="DataDirIds"/>), and its member table as of its last committed entry — the snapshot's table, then the
/// membership changes and published attributes committed after it, replayed as the member loop applies them.
/// </summary>
/// <param name="MemberId">The id in <c>member_id</c>, or null when the file is missing.</param>
/// <param name="ClusterId">The id in <c>cluster_id</c>, else the one in the snapshot, else null (a directory made before either).</param>
/// <param name="Members">The member table.</param>
internal sealed record RecordedMembership(ulong? MemberId, ulong? ClusterId, IReadOnlyList<Member> Members)
{
    /// <summary>Reads what <paramref name="storage"/> and the id files beside it record.</summary>
    /// <exception cref="InvalidDataException">The snapshot's header cannot be read.</exception>
    public static RecordedMembership Read(DiskRaftStorage storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        var table = new MemberTable();
        var clusterId = DataDirIds.Read(storage.DataDirectory, DataDirIds.ClusterIdFile);
        if (!storage.Snapshot.IsEmpty)
        {
            using var data = storage.OpenSnapshot(out _);
            var header = NodeSnapshotFormat.ReadHeader(data);
            foreach (var m in header.Members)
                table.Upsert(m);
            if (clusterId is null && header.ClusterId != 0)
                clusterId = header.ClusterId;
        }
        // Only what is committed: an entry after the commit index may yet be replaced by another leader's.
        var first = Math.Max(storage.Snapshot.Index + 1, storage.FirstIndex);
        var last = Math.Min(storage.HardState.Commit, storage.LastIndex);
        var entries = new List<Entry>();
        if (last >= first)
            storage.GetEntries(first, last + 1, long.MaxValue, entries);
        foreach (var e in entries)
            Replay(table, e);
        return new RecordedMembership(DataDirIds.Read(storage.DataDirectory, DataDirIds.MemberIdFile), clusterId, [.. table.All]);
    }

    /// <summary>Applies one committed entry's effect on the member table, if it has one.</summary>
    internal static void Replay(MemberTable table, in Entry e)
    {
        if (e.Type == EntryType.ConfChange)
        {
            table.Apply(ConfChange.Decode(e.Data));
            return;
        }
        if (e.Data.IsEmpty)
            return; // a leader's no-op
        var request = InternalRequest.Parser.ParseFrom(e.Data.Span);
        if (request.RequestCase == InternalRequest.RequestOneofCase.Attributes)
            table.Apply(request.Attributes);
    }
}
