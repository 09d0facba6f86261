using System.Security.Cryptography;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Backup;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node;

namespace Kvorum.Server.Backup;

/// <summary>
/// A backup of one member's state machine, as Maintenance.Snapshot streams it and <c>kvorum snapshot save</c>
/// keeps it: the bytes of a state-machine snapshot (<see cref="NodeSnapshotFormat"/>: member table, cluster id and
/// the whole kept MVCC history), then the SHA-256 of those bytes (<see cref="BackupDigest"/>). etcd ends its snapshot
/// stream with a SHA-256 of its database file the same way, and checks it on restore; Kvorum's snapshot holds its own
/// format, not etcd's bbolt file, so it restores with <c>kvorum snapshot restore</c>, not with etcdctl.
/// </summary>
/// <remarks>
/// The snapshot is padded with zeros to a multiple of <see cref="PageSize"/> bytes before the digest: etcd's client
/// (<c>etcdctl snapshot save</c>) takes a stream whose length is not a multiple of 512 plus 32 for one without its
/// checksum, and refuses it.
/// </remarks>
internal static class BackupFile
{
    /// <summary>The snapshot and its padding fill a whole number of these (bbolt's smallest page).</summary>
    public const int PageSize = 512;

    /// <summary>Writes a backup of <paramref name="store"/> with <paramref name="members"/> as its member table.</summary>
    /// <param name="destination">Where to write; left open.</param>
    /// <param name="store">The store; not changed, and not to be changed by another thread meanwhile.</param>
    /// <param name="members">The member table to record.</param>
    /// <param name="clusterId">The cluster id to record.</param>
    public static void Write(Stream destination, MvccStore store, IEnumerable<Member> members, ulong clusterId)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(members);
        var frozen = FrozenStore.Of(store);
        Write(destination, stream => NodeSnapshotFormat.Write(stream, frozen, members, clusterId, default));
    }

    /// <summary>Writes a backup: what <paramref name="writeSnapshot"/> writes, then its SHA-256.</summary>
    /// <param name="destination">Where to write; left open.</param>
    /// <param name="writeSnapshot">Writes the state-machine snapshot.</param>
    /// <param name="cancellation">Stops the writing at its next write to the stream.</param>
    internal static void Write(Stream destination, Action<Stream> writeSnapshot, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(writeSnapshot);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using (var digesting = new DigestingStream(destination, hash, cancellation))
        {
            writeSnapshot(digesting);
            var padding = (int)((PageSize - digesting.Length % PageSize) % PageSize);
            digesting.Write(new byte[padding]);
        }
        destination.Write(hash.GetHashAndReset());
        destination.Flush();
    }

    /// <summary>Reads a backup file into <paramref name="store"/> after checking its digest.</summary>
    /// <param name="path">The file.</param>
    /// <param name="store">Filled with the backup's MVCC state.</param>
    /// <returns>The member table the backup was taken with.</returns>
    /// <exception cref="InvalidDataException">The file is not a whole, unchanged Kvorum backup.</exception>
    public static IReadOnlyList<Member> Read(string path, MvccStore store) => ReadHeader(path, store).Members;

    /// <summary>Reads a backup file into <paramref name="store"/> after checking its digest.</summary>
    /// <param name="path">The file.</param>
    /// <param name="store">Filled with the backup's MVCC state.</param>
    /// <returns>The rest of the backup: the member table it was taken with and its lease table.</returns>
    /// <exception cref="InvalidDataException">The file is not a whole, unchanged Kvorum backup.</exception>
    public static NodeSnapshotHeader ReadHeader(string path, MvccStore store)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(store);
        using var file = BackupDigest.OpenVerified(path);
        var snapshotLength = file.Length - BackupDigest.Length;
        try
        {
            using var snapshot = new BoundedReadStream(file, snapshotLength);
            var header = NodeSnapshotFormat.Read(snapshot, store);
            if (snapshot.Remaining >= PageSize)
                throw new InvalidDataException($"{snapshot.Remaining} bytes follow the snapshot");
            Span<byte> padding = stackalloc byte[PageSize];
            padding = padding[..(int)snapshot.Remaining];
            snapshot.ReadExactly(padding);
            if (padding.ContainsAnyExcept((byte)0))
                throw new InvalidDataException("the snapshot's padding is not zeros");
            return header;
        }
        catch (Exception e) when (e is InvalidDataException or Google.Protobuf.InvalidProtocolBufferException or EndOfStreamException)
        {
            throw new InvalidDataException($"{path} is not a Kvorum snapshot: {e.Message}", e);
        }
    }

    /// <summary>What <c>kvorum snapshot status</c> prints about a backup.</summary>
    /// <param name="path">The file.</param>
    /// <returns>Its hash, revision, key count and size.</returns>
    /// <exception cref="InvalidDataException">The file is not a whole, unchanged Kvorum backup.</exception>
    public static BackupSummary Summarize(string path)
    {
        var store = new MvccStore();
        Read(path, store);
        var state = FrozenStore.Of(store);
        return new BackupSummary(
            Hash: MvccHash.Compute(state, state.Revision),
            Revision: state.Revision,
            CompactRevision: state.CompactRevision,
            TotalKeys: store.KeyCount,
            TotalSize: new FileInfo(path).Length);
    }
}

/// <summary>A backup's figures, as <c>etcdctl snapshot status</c> prints them for etcd's.</summary>
/// <param name="Hash">Kvorum's HashKV of the whole kept history (what <c>kvorum hashkv</c> answered at <paramref name="Revision"/>).</param>
/// <param name="Revision">The store's revision.</param>
/// <param name="CompactRevision">The revision the history was compacted at.</param>
/// <param name="TotalKeys">Keys in the store, with or without a live version.</param>
/// <param name="TotalSize">The file's size in bytes.</param>
internal sealed record BackupSummary(uint Hash, long Revision, long CompactRevision, int TotalKeys, long TotalSize);
