using System.Numerics;

namespace Kvorum.Cli.Bench;

/// <summary>
/// A log-linear latency histogram in microseconds, in the manner of HdrHistogram: values below 256 µs are
/// counted exactly; above that each power of two is split into 128 buckets, so any value is reported within
/// 0.8 % of what was recorded. Not thread-safe: each client records into its own and the runner merges them.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int ExactLimit = 256;
    private const int SubBuckets = 128;
    private const int SubBucketBits = 7;

    // Values up to 2^47 µs (about four years) have a bucket; larger ones are clamped into the last.
    private readonly long[] _counts = new long[ExactLimit + (47 - SubBucketBits) * SubBuckets];

    /// <summary>The number of values recorded.</summary>
    public long Count { get; private set; }

    /// <summary>The smallest value recorded, in µs (0 when empty).</summary>
    public long Min { get; private set; }

    /// <summary>The largest value recorded, in µs (0 when empty).</summary>
    public long Max { get; private set; }

    /// <summary>The mean of the values recorded, in µs (0 when empty).</summary>
    public double Mean => Count == 0 ? 0 : (double)_sum / Count;

    private long _sum;

    /// <summary>Records one latency.</summary>
    /// <param name="elapsed">The latency.</param>
    public void Record(TimeSpan elapsed) => RecordMicroseconds((long)elapsed.TotalMicroseconds);

    /// <summary>Records one value in microseconds; negative values count as 0.</summary>
    /// <param name="microseconds">The value.</param>
    public void RecordMicroseconds(long microseconds)
    {
        var value = Math.Max(0, microseconds);
        _counts[Math.Min(IndexOf(value), _counts.Length - 1)]++;
        Min = Count == 0 ? value : Math.Min(Min, value);
        Max = Count == 0 ? value : Math.Max(Max, value);
        Count++;
        _sum += value;
    }

    /// <summary>Adds every value of <paramref name="other"/> to this histogram.</summary>
    /// <param name="other">Another histogram.</param>
    public void Merge(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Count == 0)
            return;
        for (var i = 0; i < _counts.Length; i++)
            _counts[i] += other._counts[i];
        Min = Count == 0 ? other.Min : Math.Min(Min, other.Min);
        Max = Count == 0 ? other.Max : Math.Max(Max, other.Max);
        Count += other.Count;
        _sum += other._sum;
    }

    /// <summary>
    /// The value at <paramref name="percentile"/>: the smallest recorded value (to the bucket's precision) that
    /// at least that share of all values do not exceed. 0 when empty.
    /// </summary>
    /// <param name="percentile">Between 0 and 100, e.g. 99.9.</param>
    /// <returns>The value in microseconds.</returns>
    public long ValueAtPercentile(double percentile)
    {
        if (percentile is < 0 or > 100 || double.IsNaN(percentile))
            throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "must be between 0 and 100");
        if (Count == 0)
            return 0;

        var target = Math.Max(1, (long)Math.Ceiling(percentile / 100 * Count));
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= target)
                return Math.Clamp(HighestValueOf(i), Min, Max);
        }

        return Max;
    }

    private static int IndexOf(long value)
    {
        if (value < ExactLimit)
            return (int)value;
        var shift = 63 - BitOperations.LeadingZeroCount((ulong)value) - SubBucketBits;
        return ExactLimit + (shift - 1) * SubBuckets + (int)((value >> shift) - SubBuckets);
    }

    private static long HighestValueOf(int index)
    {
        if (index < ExactLimit)
            return index;
        var shift = (index - ExactLimit) / SubBuckets + 1;
        long sub = (index - ExactLimit) % SubBuckets + SubBuckets;
        return ((sub + 1) << shift) - 1;
    }
}
