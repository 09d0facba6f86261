namespace Kvorum.Lab.Scenarios;

/// <summary>Nearest-rank percentiles of durations, for failover and election times.</summary>
internal static class Percentiles
{
    /// <summary>The <paramref name="percentile"/>-th percentile (nearest rank) of <paramref name="values"/>.</summary>
    /// <param name="values">The samples.</param>
    /// <param name="percentile">0..100.</param>
    /// <returns>The value; zero for no samples.</returns>
    public static TimeSpan Of(IReadOnlyCollection<TimeSpan> values, double percentile)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
            return TimeSpan.Zero;
        TimeSpan[] sorted = [.. values.Order()];
        var rank = (int)Math.Ceiling(percentile / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    /// <summary>min / p50 / p99 / max in milliseconds, for a narration line.</summary>
    /// <param name="values">The samples.</param>
    /// <returns>For example <c>min 812 / p50 1,240 / p99 1,930 / max 1,930 ms (n=10)</c>.</returns>
    public static string Summary(IReadOnlyCollection<TimeSpan> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return values.Count == 0
            ? "no samples"
            : $"min {values.Min().TotalMilliseconds:N0} / p50 {Of(values, 50).TotalMilliseconds:N0} / p99 {Of(values, 99).TotalMilliseconds:N0} / max {values.Max().TotalMilliseconds:N0} ms (n={values.Count})";
    }
}
