namespace Kvorum.Storage;

/// <summary>
/// Records queued for the next group commit: their bytes, which segment each run of bytes goes to,
/// and the task that completes once all of them are on stable storage.
/// </summary>
/// <remarks>
/// Invariant: <see cref="Parts"/> cover [0, <see cref="Length"/>) of <see cref="Buffer"/> in order, and
/// consecutive parts name different segments (a new part starts only when the log moves to a new segment).
/// </remarks>
internal sealed class CommitBatch
{
    private byte[] _buffer = new byte[64 * 1024];

    /// <summary>Completes when the batch is durable; faults if writing or flushing it failed.</summary>
    public TaskCompletionSource Done { get; private set; } = NewSource();

    /// <summary>Position of the batch in write order (1, 2, ...), given when a lane takes it; 0 while it is pending.</summary>
    public long Sequence { get; set; }

    /// <summary>Commits that returned this batch's task: roughly, how many callers wait for it.</summary>
    public int Waiters { get; set; }

    /// <summary>Bytes queued.</summary>
    public int Length { get; private set; }

    /// <summary>The queued bytes.</summary>
    public ReadOnlySpan<byte> Bytes => _buffer.AsSpan(0, Length);

    /// <summary>Runs of bytes, each for one segment, in write order.</summary>
    public List<(Segment Segment, int Start, int End)> Parts { get; } = [];

    /// <summary>True if nothing is queued.</summary>
    public bool IsEmpty => Length == 0;

    /// <summary>Reserves <paramref name="size"/> bytes at the end of the batch, bound for <paramref name="segment"/>.</summary>
    public Span<byte> Reserve(Segment segment, int size)
    {
        if (Length + size > _buffer.Length)
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + size));
        var start = Length;
        Length += size;
        if (Parts.Count > 0 && ReferenceEquals(Parts[^1].Segment, segment))
            Parts[^1] = (segment, Parts[^1].Start, Length);
        else
            Parts.Add((segment, start, Length));
        return _buffer.AsSpan(start, size);
    }

    /// <summary>Empties the batch for reuse with a fresh completion source. The old source must be completed.</summary>
    public void Reset()
    {
        System.Diagnostics.Debug.Assert(Done.Task.IsCompleted, "a batch is reused only once its waiters have their answer");
        Length = 0;
        Sequence = 0;
        Waiters = 0;
        Parts.Clear();
        Done = NewSource();
        // Do not keep a buffer that one huge batch inflated.
        if (_buffer.Length > 16 * 1024 * 1024)
            _buffer = new byte[64 * 1024];
    }

    private static TaskCompletionSource NewSource() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
