namespace Kvorum.Storage;

/// <summary>How to open a <see cref="DiskRaftStorage"/>.</summary>
/// <remarks>
/// A new directory opens as an empty log (<see cref="RecoveryReport.Created"/> is true); a host bootstraps
/// a new cluster member by writing its first entries through <see cref="Raft.IRaftLogStore.Save"/>, exactly as
/// with <see cref="Raft.MemoryRaftStorage"/>.
/// </remarks>
public sealed class StorageOptions
{
    /// <summary>Default segment size: 64 MiB.</summary>
    public const long DefaultSegmentSize = 64L * 1024 * 1024;

    /// <summary>The data directory; created if missing. The WAL goes in <c>wal/</c>, snapshots in <c>snap/</c>.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>
    /// Size at which a segment is closed and a new one started. A record never spans segments, so a segment
    /// can exceed this by one record. Small values (a few KiB) are allowed, for tests.
    /// </summary>
    public long SegmentSize { get; init; } = DefaultSegmentSize;

    /// <summary>
    /// Whether a new segment reserves <see cref="SegmentSize"/> bytes on disk when it is created (default true,
    /// as etcd does). Appends into reserved space change neither the file's size nor its block map, so each
    /// fsync has only data to flush (measured on ext4 in docs/storage.md). Where the file system
    /// cannot reserve (or the space is not there) the segment grows as it is written instead.
    /// </summary>
    public bool PreallocateSegments { get; init; } = true;

    /// <summary>
    /// Receives the warnings of recovery (a torn WAL tail dropped: file, offset, entry indexes); they are also in
    /// <see cref="RecoveryReport.Warnings"/>. Default: written to standard error, prefixed "warning: ".
    /// </summary>
    public Action<string> Warning { get; init; } = static message => Console.Error.WriteLine("warning: " + message);

    /// <summary>The file system; a test replaces it with a simulated disk.</summary>
    internal IFileSystem FileSystem { get; init; } = OsFileSystem.Instance;

    /// <summary>Test hook applied to every segment writer (for example to inject a disk-full error).</summary>
    internal Action<SegmentWriter>? ConfigureWriter { get; init; }

    /// <summary>Test hook called once a snapshot's WAL record is durable, before anything older is deleted.</summary>
    internal Action? BeforeCompaction { get; init; }
}
