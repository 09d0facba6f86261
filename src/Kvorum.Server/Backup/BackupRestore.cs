using System.Globalization;
using Kvorum.Raft;
using Kvorum.Server.Etcd;
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
/// them whose state machine is the backup's MVCC store, revisions and compaction included, with the new member
/// table. The backup's own member table is dropped: the new cluster has new members and a new cluster id, so a
/// member of the old cluster cannot mistake it for its own.
/// </remarks>
public static class BackupRestore
{
    /// <summary>Restores <paramref name="backupPath"/> into the empty or absent <see cref="ServerOptions.DataDir"/>.</summary>
    /// <param name="backupPath">A file from <c>kvorum snapshot save</c> (or Maintenance.Snapshot).</param>
    /// <param name="options">The new member: name, data directory, initial cluster and token, advertised peer URLs.</param>
    /// <returns>The restored store's revision and key count.</returns>
    /// <exception cref="InvalidDataException">The backup is damaged or not a Kvorum snapshot.</exception>
    /// <exception cref="IOException">The data directory is not empty, or cannot be written.</exception>
    public static (long Revision, int Keys) Restore(string backupPath, ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(backupPath);
        ArgumentNullException.ThrowIfNull(options);
        var store = new MvccStore();
        BackupFile.Read(backupPath, store);

        if (Directory.Exists(options.DataDir) && Directory.EnumerateFileSystemEntries(options.DataDir).Any())
            throw new IOException($"data directory {options.DataDir} exists and is not empty; a restore writes a new member's directory");
        var members = options.InitialCluster
            .Select(kv =>
            {
                var member = new Member { ID = MemberIdentity.MemberId(kv.Value, options.InitialClusterToken), Name = kv.Key };
                member.PeerURLs.AddRange(kv.Value.Select(u => u.ToString().TrimEnd('/')));
                return member;
            })
            .OrderBy(m => m.ID)
            .ToList();
        var self = MemberIdentity.MemberId(options.InitialAdvertisePeerUrls, options.InitialClusterToken);
        if (members.All(m => m.ID != self))
            throw new ArgumentException("the advertised peer URLs are not one of the initial cluster's members", nameof(options));
        var clusterId = MemberIdentity.ClusterId([], options.InitialClusterToken);

        bool created = !Directory.Exists(options.DataDir);
        try
        {
            using (var storage = DiskRaftStorage.Open(new StorageOptions { DataDirectory = options.DataDir }))
            {
                // The same entries a new cluster's members bootstrap with (KvorumNode.Restore), so a member that joins
                // later and is sent the log rather than a snapshot rebuilds the same configuration.
                RaftBootstrap.Write(storage, members.Select(m =>
                    new ConfChange(ConfChangeType.AddVoter, m.ID, Google.Protobuf.MessageExtensions.ToByteArray(m))));
                var lastIndex = (ulong)members.Count;
                var frozen = FrozenStore.Of(store);
                var prepared = storage.PrepareSnapshot(lastIndex, ConfState.OfVoters([.. members.Select(m => m.ID)]),
                    stream => NodeSnapshotFormat.Write(stream, frozen, members, clusterId))
                    ?? throw new InvalidOperationException("a new storage already had a snapshot");
                if (!storage.CommitSnapshot(prepared))
                    throw new InvalidOperationException("the new storage refused the restored snapshot");
            }
            // What KvorumServer would derive from the same flags; written here so the directory is complete.
            File.WriteAllText(Path.Combine(options.DataDir, "member_id"), self.ToString("x16", CultureInfo.InvariantCulture));
        }
        catch
        {
            // Leave nothing half-made: a later serve would take a partial directory for a member's.
            if (created)
                TryDelete(options.DataDir);
            throw;
        }
        return (store.Revision, store.KeyCount);
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Reported through the original error; the directory stays for the user to remove.
        }
    }
}
