namespace Kvorum.Lab.Checking;

/// <summary>Limits and presentation of a linearizability check.</summary>
internal sealed record CheckOptions
{
    /// <summary>The defaults: one minute, all cores, five operations of context in reports.</summary>
    public static readonly CheckOptions Default = new();

    /// <summary>
    /// Wall-clock budget for the whole check, shared by all keys. When it runs out, undecided keys are
    /// <see cref="Verdict.Unknown"/>. <see cref="Timeout.InfiniteTimeSpan"/> means no limit.
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How many keys are checked in parallel; at least 1.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>
    /// Memory one key's search may spend on visited configurations before it gives up with an
    /// <see cref="Verdict.Unknown"/> verdict (searches run in parallel, up to <see cref="MaxDegreeOfParallelism"/>).
    /// Histories with many indeterminate operations on one key can need exponentially many.
    /// </summary>
    public long MaxCacheBytesPerKey { get; init; } = 1L << 30;

    /// <summary>How many operations at the end of the longest linearizable prefix a failure report shows.</summary>
    public int ReportContext { get; init; } = 5;
}
