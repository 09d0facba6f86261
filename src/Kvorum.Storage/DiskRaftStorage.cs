using Kvorum.Raft;

namespace Kvorum.Storage;

/// <summary>
/// A durable <see cref="IRaftLogStore"/>: a segmented write-ahead log with group commit, plus snapshot
/// files, in one data directory that it locks for its lifetime. Behaves like <see cref="MemoryRaftStorage"/>,
/// except that every write returns only once it is on stable storage and everything survives a restart.
/// </summary>
/// <remarks>
/// <para>Like etcd's MemoryStorage, the entries after the latest snapshot are also kept in memory, so reads
/// never touch the disk; compaction (<see cref="CreateSnapshot"/>) bounds that memory.</para>
/// <para>Thread safety: all members may be called concurrently. Writes are ordered by one lock
/// (<c>_gate</c>): a write validates against and updates the in-memory log and queues its records under the
/// lock, then waits outside it for the group commit that makes them durable. Reads see queued writes at
/// once; a caller learns they are durable when its own write returns.</para>
/// <para>Layout: <c>LOCK</c> (see <see cref="DataDirLock"/>), <c>wal/*.wal</c> (see <see cref="SegmentName"/>
/// and <see cref="RecordFormat"/>), <c>snap/*.snap</c> (see <see cref="SnapshotFormat"/>).</para>
/// </remarks>
public sealed partial class DiskRaftStorage : IRaftLogStore, IDisposable
{
    private readonly object _gate = new();
    private readonly IFileSystem _fs;
    private readonly IDisposable _dirLock;
    private readonly string _walDir;
    private readonly SnapshotStore _snapshots;
    private readonly long _segmentSize;
    private readonly Action? _beforeCompaction;

    // Oldest first; new records go to the last one. Changed only under _gate.
    private readonly List<Segment> _segments;
    private readonly LogState _state;
    private readonly GroupCommitter _committer;
    private bool _disposed;

    private DiskRaftStorage(StorageOptions options, IDisposable dirLock, string walDir, SnapshotStore snapshots,
        LogState state, List<Segment> segments, SegmentWriter writer, RecoveryReport report, ulong lastFileId)
    {
        DataDirectory = Path.GetFullPath(options.DataDirectory);
        _fs = options.FileSystem;
        _dirLock = dirLock;
        _walDir = walDir;
        _snapshots = snapshots;
        _segmentSize = options.SegmentSize;
        _beforeCompaction = options.BeforeCompaction;
        _state = state;
        _segments = segments;
        _lastFileId = lastFileId;
        Recovery = report;
        _committer = new GroupCommitter(_gate, _fs, walDir, writer, Reserve(options), options.ConfigureWriter);
    }

    /// <summary>
    /// Starts a framed segment if the last one was written before batch frames existed, so that nothing new is
    /// appended to an unframed segment (recovery reads a segment by one format).
    /// </summary>
    private void FrameFromNowOn()
    {
        Task durable;
        lock (_gate)
        {
            if (_segments[^1].Format == SegmentFormat.Framed)
                return;
            RollLocked();
            durable = _committer.CommitLocked();
        }
        durable.GetAwaiter().GetResult();
    }

    /// <summary>
    /// Opens (or creates) the data directory in <paramref name="options"/>: takes its lock, recovers the WAL
    /// (cutting a torn tail), checks the current snapshot file and removes stale ones.
    /// </summary>
    /// <exception cref="IOException">The directory is locked, not writable, or the disk is full.</exception>
    /// <exception cref="WalCorruptException">The WAL or the snapshot is damaged beyond a torn tail.</exception>
    public static DiskRaftStorage Open(StorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.SegmentSize < 1024)
            throw new ArgumentOutOfRangeException(nameof(options), "SegmentSize must be at least 1 KiB");
        var dataDir = Path.GetFullPath(options.DataDirectory);
        var fs = options.FileSystem;
        var missing = MissingDirectories(fs, dataDir);
        var dirLock = fs.Lock(dataDir);
        try
        {
            var walDir = Path.Combine(dataDir, "wal");
            fs.CreateDirectory(walDir);
            var snapshots = new SnapshotStore(fs, Path.Combine(dataDir, "snap"));
            SyncNames(fs, dataDir, missing);
            var started = DateTime.UtcNow;
            var recovered = WalRecovery.Recover(fs, walDir, options.Warning);

            LogState state;
            List<Segment> segments;
            SegmentWriter writer;
            RecoveryReport report;
            if (recovered is null)
            {
                if (fs.EnumerateFiles(snapshots.Directory, ".snap").Any())
                    throw new WalCorruptException(walDir, 0, "the WAL is missing but snapshot files exist");
                var initial = SnapshotRef.Empty;
                state = new LogState(initial, HardState.Empty, 0);
                var first = NewSegment(walDir, 1, 0);
                writer = SegmentWriter.Create(fs, first, Reserve(options));
                var header = EncodeRecord(RecordType.SegmentHeader, SegmentFormat.Framed, 0, 0, PayloadCodec.EncodeSegmentHeader(1, initial, HardState.Empty));
                writer.WriteBatch(BatchFrame.WithFooterSpace(header));
                writer.Flush();
                first.HeaderLength = header.Length;
                first.PlannedLength = writer.Length;
                fs.SyncDirectory(walDir);
                segments = [first];
                report = new RecoveryReport { Segments = 1, Created = true, Elapsed = DateTime.UtcNow - started };
            }
            else
            {
                (state, segments, report) = recovered;
                writer = SegmentWriter.OpenForAppend(fs, segments[^1], segments[^1].PlannedLength);
            }

            ulong lastFileId;
            try
            {
                if (state.Snapshot.FileId != 0)
                    snapshots.OpenData(state.Snapshot).Dispose(); // verifies the checksum
                lastFileId = Math.Max(snapshots.MaxFileId(), state.Snapshot.FileId);
                snapshots.RemoveAllExcept(state.Snapshot.FileId, includeTemporary: true);
            }
            catch
            {
                writer.Dispose();
                throw;
            }
            var storage = new DiskRaftStorage(options, dirLock, walDir, snapshots, state, segments, writer, report, lastFileId);
            try
            {
                storage.FrameFromNowOn();
            }
            catch
            {
                storage.Dispose();
                throw;
            }
            return storage;
        }
        catch (UnauthorizedAccessException e)
        {
            dirLock.Dispose();
            throw new IOException($"data directory {dataDir} is not writable: {e.Message}", e);
        }
        catch
        {
            dirLock.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Makes the data directory's own name and those of <c>wal/</c> and <c>snap/</c> durable, and the names of the
    /// ancestors this open created: a name survives a power cut only once its parent directory is flushed, and
    /// the directories may have been made by this open or by an earlier one that a crash stopped before it
    /// flushed them. The data directory's parent is flushed even when it existed, for that second case; failing
    /// there (a parent that may not be read) is not fatal unless this open created the data directory.
    /// </summary>
    private static void SyncNames(IFileSystem fs, string dataDir, List<string> missing)
    {
        foreach (var created in missing)
            fs.SyncDirectory(Path.GetDirectoryName(created)!);
        if (missing.Count == 0 && Path.GetDirectoryName(dataDir) is { } parent)
        {
            try
            {
                fs.SyncDirectory(parent);
            }
            catch (IOException)
            {
                // Not ours to flush, and a data directory that existed before this open was most likely flushed long ago.
            }
        }
        fs.SyncDirectory(dataDir);
    }

    /// <summary><paramref name="path"/> and those of its ancestors that do not exist, deepest first.</summary>
    private static List<string> MissingDirectories(IFileSystem fs, string path)
    {
        var missing = new List<string>();
        for (var p = path; Path.GetDirectoryName(p) is { } parent && !fs.DirectoryExists(p); p = parent)
            missing.Add(p);
        return missing;
    }

    private static long Reserve(StorageOptions options) => options.PreallocateSegments ? options.SegmentSize : 0;

    /// <summary>The data directory (full path).</summary>
    public string DataDirectory { get; }

    /// <summary>What opening the directory found.</summary>
    public RecoveryReport Recovery { get; }

    /// <summary>Segment-file fsyncs done since open (at most one per group commit, plus one per segment sealed).</summary>
    public long FsyncCount => _committer.Fsyncs;

    /// <summary>Group commits (batches written and acknowledged) since open.</summary>
    public long CommitCount => _committer.Batches;

    /// <summary>Number of segment files.</summary>
    public int SegmentCount
    {
        get
        {
            lock (_gate)
                return _segments.Count;
        }
    }

    /// <inheritdoc />
    public HardState HardState
    {
        get
        {
            lock (_gate)
                return _state.HardState;
        }
    }

    /// <inheritdoc />
    public SnapshotMetadata Snapshot
    {
        get
        {
            lock (_gate)
                return _state.Snapshot.Metadata;
        }
    }

    /// <inheritdoc />
    public ulong FirstIndex
    {
        get
        {
            lock (_gate)
                return _state.FirstIndex;
        }
    }

    /// <inheritdoc />
    public ulong LastIndex
    {
        get
        {
            lock (_gate)
                return _state.LastIndex;
        }
    }

    /// <inheritdoc />
    public bool TryGetTerm(ulong index, out ulong term)
    {
        lock (_gate)
            return _state.TryGetTerm(index, out term);
    }

    /// <inheritdoc />
    public void GetEntries(ulong lo, ulong hi, long maxBytes, List<Entry> into)
    {
        lock (_gate)
            _state.GetEntries(lo, hi, maxBytes, into);
    }

    /// <summary>Test hook: the lock that orders writes; saves started while a test holds it go into one group commit.</summary>
    internal object GateForTest => _gate;

    /// <summary>Writes everything queued, closes the files and releases the directory lock.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
        }
        _committer.Dispose();
        _dirLock.Dispose();
    }

    private void ThrowIfUnusableLocked()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _committer.ThrowIfFailed();
    }

    private static Segment NewSegment(string walDir, ulong sequence, ulong baseIndex) =>
        new(sequence, baseIndex, Path.Combine(walDir, SegmentName.Format(sequence, baseIndex + 1)));

    private static byte[] EncodeRecord(RecordType type, byte entryType, ulong index, ulong term, ReadOnlySpan<byte> payload)
    {
        var bytes = new byte[RecordFormat.RecordSize(payload.Length)];
        RecordFormat.Write(bytes, type, entryType, index, term, payload);
        return bytes;
    }
}
