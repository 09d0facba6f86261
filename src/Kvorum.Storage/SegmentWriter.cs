using System.Diagnostics;

namespace Kvorum.Storage;

/// <summary>
/// Appends bytes to one segment file at a tracked position and flushes them to disk, possibly from several
/// threads at once (one per sync lane).
/// </summary>
/// <remarks>
/// <para>Invariant: <see cref="Length"/> ≤ the file's size, everything in the file after <see cref="Length"/> is
/// zeros (space reserved by <see cref="FilePreallocation"/>), and everything before <see cref="DurableLength"/>
/// has been fsynced. If a write fails (for example ENOSPC) the file is cut back to the length before that
/// write, so no half record stays behind to be followed by valid ones. A sealed segment is cut to
/// <see cref="Length"/>, so only the last segment of a log can end in reserved zeros.</para>
/// <para>Threads: <see cref="Write"/> (and so <see cref="Length"/>) belongs to one thread at a time, the group
/// committer's lane whose turn it is to write (or open, before the committer starts). <see cref="Sync"/> may
/// run on several lanes at once, each through its own file descriptor: Linux reports a writeback error to
/// every descriptor open on the file but only once per descriptor, so two fsyncs through one shared
/// descriptor could let one of them succeed although the other's data (on a shared page) was lost.</para>
/// </remarks>
internal sealed class SegmentWriter : IDisposable
{
    private readonly IFileSystem _fs;
    private readonly IStorageFile _handle;

    // Descriptor used by each sync lane; lane 0 uses the write handle itself. Set up before any concurrent use.
    private IStorageFile[] _syncHandles;
    private long _durableLength;

    // The file's size as reserved by FilePreallocation (0 if nothing is reserved); bytes from Length up to it are zeros.
    private long _reservedLength;

    private SegmentWriter(IFileSystem fs, Segment segment, IStorageFile handle, long length)
    {
        _fs = fs;
        Segment = segment;
        _handle = handle;
        _syncHandles = [handle];
        Length = _durableLength = length;
    }

    /// <summary>The segment written.</summary>
    public Segment Segment { get; }

    /// <summary>Bytes written to the file (its size, unless space after them is reserved).</summary>
    public long Length { get; private set; }

    /// <summary>Bytes known to be on stable storage; only grows (safe to read from any thread).</summary>
    public long DurableLength => Interlocked.Read(ref _durableLength);

    /// <summary>Number of sync lanes (<see cref="Sync"/> accepts lanes 0 to this minus 1).</summary>
    public int SyncLanes => _syncHandles.Length;

    /// <summary>
    /// Creates a new, empty segment file with <paramref name="reserve"/> bytes reserved for its appends where
    /// the file system allows (0: none). The caller must flush the directory afterwards, and the first
    /// <see cref="Flush"/> makes the reservation durable.
    /// </summary>
    public static SegmentWriter Create(IFileSystem fs, Segment segment, long reserve = 0)
    {
        ArgumentNullException.ThrowIfNull(fs);
        ArgumentNullException.ThrowIfNull(segment);
        var handle = fs.Open(segment.Path, FileMode.CreateNew, FileAccess.ReadWrite);
        var writer = new SegmentWriter(fs, segment, handle, 0);
        if (reserve > 0 && handle.TryPreallocate(reserve))
            writer._reservedLength = reserve;
        return writer;
    }

    /// <summary>
    /// Opens an existing segment to append after its <paramref name="validLength"/> bytes, which recovery
    /// has checked; the rest of the file, if any, is reserved zeros.
    /// </summary>
    public static SegmentWriter OpenForAppend(IFileSystem fs, Segment segment, long validLength)
    {
        ArgumentNullException.ThrowIfNull(fs);
        ArgumentNullException.ThrowIfNull(segment);
        var handle = fs.Open(segment.Path, FileMode.Open, FileAccess.ReadWrite);
        var writer = new SegmentWriter(fs, segment, handle, validLength);
        writer._reservedLength = handle.Length;
        Debug.Assert(writer._reservedLength >= validLength, "recovery read the valid bytes from this file");
        return writer;
    }

    /// <summary>Appends <paramref name="data"/>. On failure the file is cut back and the exception rethrown.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        try
        {
            Fault?.Invoke(this, data.Length);
            _handle.Write(Length, data);
        }
        catch (IOException)
        {
            CutBack();
            throw;
        }
        Length += data.Length;
    }

    /// <summary>
    /// Appends one group commit's records for this segment, <paramref name="batch"/>, whose last
    /// <see cref="BatchFrame.FooterSize"/> bytes are room for its footer, filled in here.
    /// </summary>
    public void WriteBatch(Span<byte> batch)
    {
        BatchFrame.WriteFooter(batch, Length, DurableLength);
        Write(batch);
    }

    /// <summary>
    /// Opens one read-only descriptor per extra sync lane, so that up to <paramref name="lanes"/> threads can
    /// call <see cref="Sync"/> at once. Call before the writer is shared, and before anything is written
    /// through it that a lane will sync.
    /// </summary>
    public void OpenSyncLanes(int lanes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lanes, 1);
        Debug.Assert(_syncHandles.Length == 1, "lanes are opened once");
        var handles = new IStorageFile[lanes];
        handles[0] = _handle;
        try
        {
            for (var i = 1; i < lanes; i++)
                handles[i] = _fs.Open(Segment.Path, FileMode.Open, FileAccess.Read);
        }
        catch
        {
            foreach (var h in handles.Skip(1))
                h?.Dispose();
            throw;
        }
        _syncHandles = handles;
    }

    /// <summary>fsyncs the file (data and the size change that the appends made), from the writing thread.</summary>
    public void Flush() => Sync(0, Length);

    /// <summary>
    /// Makes the first <paramref name="upTo"/> bytes durable, which must all have been written (by
    /// <see cref="Write"/> calls that returned) before this call. fsyncs through <paramref name="lane"/>'s
    /// descriptor unless an fsync that started after those bytes were written has already returned.
    /// </summary>
    /// <returns>True if this call fsynced the file.</returns>
    public bool Sync(int lane, long upTo)
    {
        if (DurableLength >= upTo)
            return false;
        SyncFault?.Invoke(this);
        _syncHandles[lane].Sync();
        // Raise, never lower: a slower fsync of an earlier length may return after a later one.
        var seen = Interlocked.Read(ref _durableLength);
        while (seen < upTo)
        {
            var previous = Interlocked.CompareExchange(ref _durableLength, upTo, seen);
            if (previous == seen)
                break;
            seen = previous;
        }
        return true;
    }

    /// <summary>
    /// Makes everything written durable and cuts off the reserved space after it, before the next segment is
    /// started, so that only the last segment can end in zeros. No other thread may sync meanwhile.
    /// </summary>
    /// <returns>True if this call fsynced the file.</returns>
    public bool Seal()
    {
        if (_reservedLength <= Length)
            return Sync(0, Length);
        _handle.SetLength(Length);
        _reservedLength = 0;
        _handle.Sync();
        Interlocked.Exchange(ref _durableLength, Length);
        return true;
    }

    /// <summary>
    /// Test hook: called before each write with the writer and the byte count; may write a prefix itself
    /// through <see cref="WriteRawForTest"/> and throw, to simulate a disk that fills up mid-write.
    /// </summary>
    internal Action<SegmentWriter, int>? Fault { get; set; }

    /// <summary>Test hook: called before each fsync of <see cref="Sync"/>; may block (to hold a batch in flight) or throw.</summary>
    internal Action<SegmentWriter>? SyncFault { get; set; }

    /// <summary>Test hook: writes bytes at the current end without tracking them.</summary>
    internal void WriteRawForTest(ReadOnlySpan<byte> data) => _handle.Write(Length, data);

    private void CutBack()
    {
        try
        {
            _handle.SetLength(Length);
            _reservedLength = 0;
        }
        catch (IOException)
        {
            // The caller poisons the log on any write failure, and recovery treats a partial record at the
            // tail as torn; nothing more can be done here.
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var handle in _syncHandles)
            handle.Dispose();
        _handle.Dispose();
    }
}
