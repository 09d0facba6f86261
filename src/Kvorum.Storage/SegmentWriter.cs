using System.Diagnostics;

namespace Kvorum.Storage;

/// <summary>
/// Appends bytes to one segment file at a tracked position and flushes them to disk.
/// </summary>
/// <remarks>
/// <para>Invariant: <see cref="Length"/> ≤ the file's size, everything in the file after <see cref="Length"/> is
/// zeros (space reserved by <see cref="FilePreallocation"/>), and everything before <see cref="DurableLength"/>
/// has been fsynced. If a write fails (for example ENOSPC) the file is cut back to the length before that
/// write, so no half record stays behind to be followed by valid ones. A sealed segment is cut to
/// <see cref="Length"/>, so only the last segment of a log can end in reserved zeros.</para>
/// <para>Threads: a writer belongs to one thread at a time, the group committer's (or the opener's, before the
/// committer starts).</para>
/// </remarks>
internal sealed class SegmentWriter : IDisposable
{
    private readonly IStorageFile _handle;

    // The file's size as reserved by FilePreallocation (0 if nothing is reserved); bytes from Length up to it are zeros.
    private long _reservedLength;

    private SegmentWriter(Segment segment, IStorageFile handle, long length)
    {
        Segment = segment;
        _handle = handle;
        Length = DurableLength = length;
    }

    /// <summary>The segment written.</summary>
    public Segment Segment { get; }

    /// <summary>Bytes written to the file (its size, unless space after them is reserved).</summary>
    public long Length { get; private set; }

    /// <summary>Bytes known to be on stable storage; only grows.</summary>
    public long DurableLength { get; private set; }

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
        var writer = new SegmentWriter(segment, handle, 0);
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
        var writer = new SegmentWriter(segment, handle, validLength);
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

    /// <summary>fsyncs the file (data and the size change that the appends made).</summary>
    public void Flush() => Sync(Length);

    /// <summary>
    /// Makes the first <paramref name="upTo"/> bytes durable, which must all have been written (by
    /// <see cref="Write"/> calls that returned) before this call; fsyncs unless they already are.
    /// </summary>
    /// <returns>True if this call fsynced the file.</returns>
    public bool Sync(long upTo)
    {
        if (DurableLength >= upTo)
            return false;
        SyncFault?.Invoke(this);
        _handle.Sync();
        DurableLength = upTo;
        return true;
    }

    /// <summary>
    /// Makes everything written durable and cuts off the reserved space after it, before the next segment is
    /// started, so that only the last segment can end in zeros.
    /// </summary>
    /// <returns>True if this call fsynced the file.</returns>
    public bool Seal()
    {
        if (_reservedLength <= Length)
            return Sync(Length);
        _handle.SetLength(Length);
        _reservedLength = 0;
        _handle.Sync();
        DurableLength = Length;
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
    public void Dispose() => _handle.Dispose();
}
