using Microsoft.Win32.SafeHandles;

namespace Kvorum.Storage;

/// <summary>
/// Appends bytes to one segment file at a tracked position and flushes them to disk.
/// Used only by the group-commit thread (and by open, before that thread starts).
/// </summary>
/// <remarks>
/// Invariant: <see cref="Length"/> is the file's size and everything before <see cref="DurableLength"/>
/// has been fsynced. If a write fails (for example ENOSPC) the file is cut back to the length before that
/// write, so no half record stays behind to be followed by valid ones.
/// </remarks>
internal sealed class SegmentWriter : IDisposable
{
    private readonly SafeFileHandle _handle;

    private SegmentWriter(Segment segment, SafeFileHandle handle, long length)
    {
        Segment = segment;
        _handle = handle;
        Length = DurableLength = length;
    }

    /// <summary>The segment written.</summary>
    public Segment Segment { get; }

    /// <summary>Bytes in the file.</summary>
    public long Length { get; private set; }

    /// <summary>Bytes known to be on stable storage.</summary>
    public long DurableLength { get; private set; }

    /// <summary>Creates a new, empty segment file. The caller must flush the directory afterwards.</summary>
    public static SegmentWriter Create(Segment segment)
    {
        ArgumentNullException.ThrowIfNull(segment);
        var handle = File.OpenHandle(segment.Path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read);
        return new SegmentWriter(segment, handle, 0);
    }

    /// <summary>Opens an existing segment to append at its end (which recovery has already validated).</summary>
    public static SegmentWriter OpenForAppend(Segment segment)
    {
        ArgumentNullException.ThrowIfNull(segment);
        var handle = File.OpenHandle(segment.Path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        return new SegmentWriter(segment, handle, RandomAccess.GetLength(handle));
    }

    /// <summary>Appends <paramref name="data"/>. On failure the file is cut back and the exception rethrown.</summary>
    public void Write(ReadOnlySpan<byte> data)
    {
        try
        {
            Fault?.Invoke(this, data.Length);
            RandomAccess.Write(_handle, data, Length);
        }
        catch (IOException)
        {
            CutBack();
            throw;
        }
        Length += data.Length;
    }

    /// <summary>fsyncs the file (data and the size change that the appends made).</summary>
    public void Flush()
    {
        if (DurableLength == Length)
            return;
        RandomAccess.FlushToDisk(_handle);
        DurableLength = Length;
    }

    /// <summary>Cuts the file to <paramref name="length"/> and flushes it (used by recovery for a torn tail).</summary>
    public void Truncate(long length)
    {
        RandomAccess.SetLength(_handle, length);
        RandomAccess.FlushToDisk(_handle);
        Length = DurableLength = length;
    }

    /// <summary>
    /// Test hook: called before each write with the writer and the byte count; may write a prefix itself
    /// through <see cref="WriteRawForTest"/> and throw, to simulate a disk that fills up mid-write.
    /// </summary>
    internal Action<SegmentWriter, int>? Fault { get; set; }

    /// <summary>Test hook: writes bytes at the current end without tracking them.</summary>
    internal void WriteRawForTest(ReadOnlySpan<byte> data) => RandomAccess.Write(_handle, data, Length);

    private void CutBack()
    {
        try
        {
            RandomAccess.SetLength(_handle, Length);
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
