using Kvorum.Raft;
using Kvorum.Storage;

namespace Kvorum.Server.Node;

/// <summary>
/// A new member's data directory, made whole before the member loads it (issue 19, finding 11): its ids and, for a new
/// cluster, the initial members' entries, built in a staging directory (<see cref="StagedDirectory"/>). A first start
/// that fails before this leaves no directory, and one that is stopped while this runs leaves none that a later start
/// would take for a member's, so a retry with other flags takes those flags.
/// </summary>
internal static class MemberBootstrap
{
    // The storage's log directory: with it in place the directory holds the member's state (KvorumServer then takes its
    // ids from the directory, not the flags), so it is the last entry to appear in a directory filled in place.
    private const string LogDirectory = "wal";

    /// <summary>True when <paramref name="dataDir"/> does not exist or is an empty directory (etcd takes an empty one too).</summary>
    public static bool IsNew(string dataDir) =>
        !File.Exists(dataDir) && (!Directory.Exists(dataDir) || !Directory.EnumerateFileSystemEntries(dataDir).Any());

    /// <summary>Makes the data directory of a new member with <paramref name="options"/>' flags.</summary>
    /// <param name="options">The member's flags: its data directory, and the initial cluster it bootstraps unless it joins one.</param>
    /// <param name="memberId">The member's id, from its peer URLs and token.</param>
    /// <param name="clusterId">The cluster's id, from its token.</param>
    /// <exception cref="IOException">The directory cannot be written, or something else made it meanwhile.</exception>
    public static void Create(ServerOptions options, ulong memberId, ulong clusterId)
    {
        ArgumentNullException.ThrowIfNull(options);
        StagedDirectory.Create(options.DataDir, "creating", staging =>
        {
            using (var storage = DiskRaftStorage.Open(new StorageOptions { DataDirectory = staging }))
            {
                // The same entries every initial member writes (a member that joins is sent the log instead).
                if (options.InitialClusterState == InitialClusterState.New)
                    RaftBootstrap.Write(storage, InitialMembers.Changes(InitialMembers.Of(options)));
            }
            DataDirIds.Write(staging, memberId, clusterId);
        }, commitEntry: LogDirectory, beforeMove: BeforeMove);
    }

    /// <summary>For tests: runs with the staging directory, complete, just before it is moved into place.</summary>
    internal static Action<string>? BeforeMove { get; set; }
}
