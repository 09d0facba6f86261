using Kvorum.Raft;
using Kvorum.Etcd.Api;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node;
using Kvorum.Storage;

namespace Kvorum.Server.Backup;

/// <summary>
/// <c>kvorum snapshot restore</c>: makes the data directory of one member of a new cluster that starts from a backup,
/// as <c>etcdutl snapshot restore</c> does for etcd. Every member of the new cluster restores the same file with the
/// same <see cref="ServerOptions.InitialCluster"/> and <see cref="ServerOptions.InitialClusterToken"/>, then starts
/// with <c>kvorum serve</c> on its directory.
/// </summary>
/// <remarks>
/// The directory holds what a member of a new cluster holds once it has applied its first entries: the initial
/// members as committed ConfChange entries of term 1 (<see cref="RaftBootstrap"/>), and a snapshot at the last of
/// them whose state machine is the backup's MVCC store, revisions and compaction included, and its lease table, with
/// the new member table (the backup's own is dropped). Ids derive from the flags as for any new cluster: give it a new token, as
/// etcd's guide says, or members of the old cluster still running at the same peer URLs would have the same ids.
/// </remarks>
internal static class BackupRestore
{
    /// <summary>Restores <paramref name="backupPath"/> into <see cref="ServerOptions.DataDir"/>, which must not exist.</summary>
    /// <param name="backupPath">A file from <c>kvorum snapshot save</c> (or Maintenance.Snapshot).</param>
    /// <param name="options">The new member: name, data directory, initial cluster and token, advertised peer URLs.</param>
    /// <returns>The restored store's revision and key count.</returns>
    /// <exception cref="InvalidDataException">The backup is damaged or not a Kvorum snapshot.</exception>
    /// <exception cref="IOException">The data directory exists, or cannot be written.</exception>
    public static (long Revision, int Keys) Restore(string backupPath, ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(backupPath);
        ArgumentNullException.ThrowIfNull(options);
        var store = new MvccStore();
        // The lease table comes along, as etcd's restore keeps its lease bucket; the new cluster's leader gives each
        // lease its full TTL when it is promoted.
        var header = BackupFile.ReadHeader(backupPath, store);
        var leases = header.Leases;
        // Users, roles and the auth flag come along too, as etcd's restore keeps its auth buckets.
        var auth = header.Auth;

        // As etcd's restore: never into an existing directory, even an empty one, so that the whole directory can
        // appear at once (below).
        if (Directory.Exists(options.DataDir) || File.Exists(options.DataDir))
            throw new IOException($"data directory {options.DataDir} exists; a restore makes a new member's directory");
        var members = InitialMembers.Of(options);
        var self = MemberIdentity.MemberId(options.InitialAdvertisePeerUrls, options.InitialClusterToken);
        if (members.All(m => m.ID != self))
            throw new ArgumentException("the advertised peer URLs are not one of the initial cluster's members", nameof(options));
        // The id every member of a new cluster derives from its token (KvorumServer), so that a member added later
        // with `--initial-cluster-state existing` belongs to it too. As with etcd, every member must restore the same
        // file: members restored from different ones would hold different states at the same index; `kvorum hashkv`
        // shows it at once (see docs/architecture.md).
        var clusterId = MemberIdentity.ClusterId([], options.InitialClusterToken);

        // Everything is written and made durable in a directory beside the target, which then takes the target's name
        // in one rename. A restore that stops half-way (a crash, a full disk) leaves no directory that serve could take
        // for a member's: one with the initial members' entries but not the snapshot would start with an empty store
        // at the same index and term as its peers, and diverge from them.
        StagedDirectory.Create(options.DataDir, "restoring", staging =>
        {
            using (var storage = DiskRaftStorage.Open(new StorageOptions { DataDirectory = staging }))
            {
                // The same entries a new cluster's members bootstrap with (MemberBootstrap), so a member that joins
                // later and is sent the log rather than a snapshot rebuilds the same configuration.
                RaftBootstrap.Write(storage, InitialMembers.Changes(members));
                var lastIndex = (ulong)members.Count;
                var frozen = FrozenStore.Of(store);
                var position = new AppliedPosition(lastIndex, storage.TryGetTerm(lastIndex, out var term) ? term : 0);
                var prepared = storage.PrepareSnapshot(lastIndex, ConfState.OfVoters([.. members.Select(m => m.ID)]),
                    stream => NodeSnapshotFormat.Write(stream, frozen, members, clusterId, position, leases, auth))
                    ?? throw new InvalidOperationException("a new storage already had a snapshot");
                if (!storage.CommitSnapshot(prepared))
                    throw new InvalidOperationException("the new storage refused the restored snapshot");
            }
            // What serve would derive from the same flags, durable as the log and the snapshot are.
            DataDirIds.Write(staging, self, clusterId);
        }, beforeMove: BeforeRename);
        return (store.Revision, store.KeyCount);
    }

    /// <summary>For tests: runs with the staging directory, complete, just before it takes the data directory's name.</summary>
    internal static Action<string>? BeforeRename { get; set; }
}
