using System.Diagnostics;

namespace Kvorum.Lab.Checking;

/// <summary>
/// When a search must give up: a deadline shared by every partition of one check, and a cancellation token.
/// A search that gives up answers <see cref="Verdict.Unknown"/> instead of hanging.
/// </summary>
internal sealed class SearchBudget(TimeSpan timeout, CancellationToken cancellation, long maxCacheBytes = long.MaxValue)
{
    private readonly long _deadline = timeout == Timeout.InfiniteTimeSpan
        ? long.MaxValue
        : Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);

    /// <summary>An unlimited budget.</summary>
    public static SearchBudget Unlimited { get; } = new(Timeout.InfiniteTimeSpan, CancellationToken.None);

    /// <summary>True once the deadline has passed or the check was cancelled.</summary>
    /// <summary>How much memory one key's search may give its cache of visited configurations.</summary>
    public long MaxCacheBytes => maxCacheBytes;

    public bool IsExhausted => cancellation.IsCancellationRequested || Stopwatch.GetTimestamp() > _deadline;
}
