namespace Kvorum.Storage;

/// <summary>
/// Records queued for the next group commit: their bytes, which segment each run of bytes goes to,
/// and the task that completes once all of them are on stable storage.
/// </summary>
/// <remarks>
/// <para>Invariant: <see cref="Parts"/> cover [0, <see cref="Length"/>) of the buffer in order, and
/// consecutive parts name different segments (a new part starts only when the log moves to a new segment).</para>
/// <para>Each part ends with room for its <see cref="BatchFrame"/> footer, reserved when the part is closed: when
/// the next part starts, or when the committer takes the batch (<see cref="Close"/>); the committer fills it in as
/// it writes the part. The footer's bytes are counted in the segment's <see cref="Segment.PlannedLength"/> then.</para>
/// </remarks>
internal sealed class CommitBatch
{
    private byte[] _buffer = new byte[64 * 1024];
    private bool _lastPartClosed;

    /// <summary>Completes when the batch is durable; faults if writing or flushing it failed.</summary>
    public TaskCompletionSource Done { get; private set; } = NewSource();

    /// <summary>Commits that returned this batch's task: roughly, how many callers wait for it.</summary>
    public int Waiters { get; set; }

    /// <summary>Bytes queued.</summary>
    public int Length { get; private set; }

    /// <summary>The queued bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _buffer.AsSpan(0, Length);

    /// <summary>The bytes of a part, footer room included, for the committer that writes them to fill in the footer.</summary>
    public Span<byte> PartBytes(int start, int end) => _buffer.AsSpan(start, end - start);

    /// <summary>Runs of bytes, each for one segment, in write order.</summary>
    public List<(Segment Segment, int Start, int End)> Parts { get; } = [];

    /// <summary>True if nothing is queued.</summary>
    public bool IsEmpty => Length == 0;

    /// <summary>Reserves <paramref name="size"/> bytes at the end of the batch, bound for <paramref name="segment"/>.</summary>
    public Span<byte> Reserve(Segment segment, int size)
    {
        var sameSegment = Parts.Count > 0 && ReferenceEquals(Parts[^1].Segment, segment);
        System.Diagnostics.Debug.Assert(!(sameSegment && _lastPartClosed), "a closed batch takes no more records");
        if (!sameSegment)
            Close();
        _lastPartClosed = false;
        var start = Grow(size);
        if (sameSegment)
            Parts[^1] = (segment, Parts[^1].Start, Length);
        else
            Parts.Add((segment, start, Length));
        return _buffer.AsSpan(start, size);
    }

    /// <summary>Reserves the footer of the last part, which no record may join afterwards. Called under the storage's lock.</summary>
    public void Close()
    {
        if (Parts.Count == 0 || _lastPartClosed)
            return;
        var (segment, start, _) = Parts[^1];
        Grow(BatchFrame.FooterSize);
        Parts[^1] = (segment, start, Length);
        segment.PlannedLength += BatchFrame.FooterSize;
        _lastPartClosed = true;
    }

    private int Grow(int size)
    {
        if (Length + size > _buffer.Length)
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + size));
        var start = Length;
        Length += size;
        return start;
    }

    /// <summary>Empties the batch for reuse with a fresh completion source. The old source must be completed.</summary>
    public void Reset()
    {
        System.Diagnostics.Debug.Assert(Done.Task.IsCompleted, "a batch is reused only once its waiters have their answer");
        Length = 0;
        Waiters = 0;
        Parts.Clear();
        _lastPartClosed = false;
        Done = NewSource();
        // Do not keep a buffer that one huge batch inflated.
        if (_buffer.Length > 16 * 1024 * 1024)
            _buffer = new byte[64 * 1024];
    }

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
