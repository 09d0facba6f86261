using Kvorum.Etcd.Api;
using Kvorum.Storage;

namespace Kvorum.Server.Node;

/// <summary>
/// Whether a data directory belongs to the member that <c>kvorum serve</c>'s flags describe (issue 19, finding 10). Two
/// members' directories swapped would otherwise each start under the other's id on its own ports, and the cluster would
/// lose its leader until they were swapped back.
/// </summary>
/// <remarks>
/// <para>As with etcd, a directory that holds state keeps the id it was made with: the flags' peer URLs may have moved
/// since (<c>member update</c>, which the member may learn only after it starts), so a different id from the flags alone
/// is no reason to refuse. What is refused is evidence that the directory is another member's: the member table gives
/// the directory's member another name than <c>--name</c>, gives the flags' peer URLs (their id) or <c>--name</c> to
/// another member, or the directory records another cluster than <c>--initial-cluster-token</c> names.</para>
/// <para>A directory with no state yet (a failed first start, or a member that joined and has heard nothing) records
/// nothing that could disagree: it takes the ids of the flags.</para>
/// </remarks>
internal static class MemberIdentityCheck
{
    /// <summary>
    /// The member id to start <paramref name="storage"/> with, or null (and <paramref name="refusal"/>, one line) when
    /// the directory is another member's. Writes the id files only when they are missing or the directory holds no state.
    /// </summary>
    /// <exception cref="InvalidDataException">The snapshot's header cannot be read.</exception>
    public static ulong? Resolve(ServerOptions options, DiskRaftStorage storage, out string refusal)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(storage);
        refusal = "";
        var flagsId = MemberIdentity.MemberId(options.InitialAdvertisePeerUrls, options.InitialClusterToken);
        var clusterId = MemberIdentity.ClusterId([], options.InitialClusterToken);
        var dir = storage.DataDirectory;
        if (HoldsNoState(storage))
        {
            if (DataDirIds.Read(dir, DataDirIds.MemberIdFile) != flagsId || DataDirIds.Read(dir, DataDirIds.ClusterIdFile) != clusterId)
                DataDirIds.Write(dir, flagsId, clusterId);
            return flagsId;
        }
        var recorded = RecordedMembership.Read(storage);
        if (Verify(recorded, options, dir) is { } reason)
        {
            refusal = reason;
            return null;
        }
        var memberId = recorded.MemberId ?? flagsId;
        // A directory from before the cluster id was recorded records it from now on.
        if (recorded.MemberId is null || DataDirIds.Read(dir, DataDirIds.ClusterIdFile) is null)
            DataDirIds.Write(dir, memberId, clusterId);
        return memberId;
    }

    /// <summary>True when the storage holds nothing of a member yet: no entry, hard state or snapshot.</summary>
    public static bool HoldsNoState(DiskRaftStorage storage) =>
        storage.LastIndex == 0 && storage.HardState.IsEmpty && storage.Snapshot.IsEmpty;

    /// <summary>Null when <paramref name="recorded"/> may be <paramref name="options"/>' member, else why not, in one line.</summary>
    public static string? Verify(RecordedMembership recorded, ServerOptions options, string dataDir)
    {
        ArgumentNullException.ThrowIfNull(recorded);
        ArgumentNullException.ThrowIfNull(options);
        var flagsId = MemberIdentity.MemberId(options.InitialAdvertisePeerUrls, options.InitialClusterToken);
        var flagsCluster = MemberIdentity.ClusterId([], options.InitialClusterToken);
        var selfId = recorded.MemberId ?? flagsId;
        if (recorded.ClusterId is { } cluster && cluster != flagsCluster)
        {
            return $"data directory {dataDir} belongs to cluster {cluster:x16}, not to cluster {flagsCluster:x16} of " +
                $"--initial-cluster-token {options.InitialClusterToken}: start the member with the token it was made with";
        }
        var self = recorded.Members.FirstOrDefault(m => m.ID == selfId);
        var selfName = self?.Name ?? "";
        if (selfName.Length > 0 && selfName != options.Name)
            return Refusal(dataDir, selfName, selfId, options.Name, flagsId, "");
        if (flagsId != selfId && recorded.Members.FirstOrDefault(m => m.ID == flagsId) is { } atUrls)
            return Refusal(dataDir, selfName, selfId, options.Name, flagsId, $" (its member table has {Describe(atUrls.Name, atUrls.ID)} at these peer URLs)");
        if (recorded.Members.FirstOrDefault(m => m.ID != selfId && m.Name == options.Name) is { } named)
            return Refusal(dataDir, selfName, selfId, options.Name, flagsId, $" (its member table has {Describe(named.Name, named.ID)})");
        return null;
    }

    private static string Refusal(string dataDir, string recordedName, ulong recordedId, string name, ulong flagsId, string detail) =>
        $"data directory {dataDir} belongs to member {Describe(recordedName, recordedId)}, not to {Describe(name, flagsId)}{detail}: " +
        "start each member on its own data directory";

    private static string Describe(string name, ulong id) => name.Length > 0 ? $"\"{name}\" ({id:x16})" : $"{id:x16}";
}
