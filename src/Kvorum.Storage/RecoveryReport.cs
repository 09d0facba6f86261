namespace Kvorum.Storage;

/// <summary>What opening a data directory found and repaired.</summary>
public sealed record RecoveryReport
{
    /// <summary>Segment files read.</summary>
    public int Segments { get; init; }

    /// <summary>WAL records read (all types).</summary>
    public long Records { get; init; }

    /// <summary>Bytes read from the WAL.</summary>
    public long BytesRead { get; init; }

    /// <summary>
    /// Bytes cut from the end of the last segment because its final batch was torn (0 if none), up to the
    /// torn batch's last non-zero byte: zeros after it cannot be told from space reserved for appends.
    /// </summary>
    public long TruncatedBytes { get; init; }

    /// <summary>The file that was cut, if any.</summary>
    public string? TruncatedFile { get; init; }

    /// <summary>
    /// What recovery dropped, one line each (file, offset, bytes, entry indexes): a torn tail that never became
    /// durable. Also passed to <see cref="StorageOptions.Warning"/> as it is found.
    /// </summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Wall-clock time spent recovering.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>True if the directory held no WAL and a new one was started.</summary>
    public bool Created { get; init; }
}
