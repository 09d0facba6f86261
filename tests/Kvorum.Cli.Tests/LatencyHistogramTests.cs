using Kvorum.Cli.Bench;

namespace Kvorum.Cli.Tests;

public class LatencyHistogramTests
{
    [Fact]
    public void Small_values_are_exact()
    {
        var histogram = new LatencyHistogram();
        foreach (var v in new[] { 5, 1, 3, 2, 4 })
            histogram.RecordMicroseconds(v);

        Assert.Equal(5, histogram.Count);
        Assert.Equal(1, histogram.ValueAtPercentile(0));
        Assert.Equal(1, histogram.ValueAtPercentile(20));
        Assert.Equal(3, histogram.ValueAtPercentile(50));
        Assert.Equal(5, histogram.ValueAtPercentile(99.9));
        Assert.Equal(5, histogram.ValueAtPercentile(100));
        Assert.Equal(3.0, histogram.Mean);
    }

    [Fact]
    public void Percentiles_of_a_uniform_spread_are_within_one_percent()
    {
        var histogram = new LatencyHistogram();
        for (var v = 1; v <= 100_000; v++)
            histogram.RecordMicroseconds(v);

        foreach (var p in new[] { 50, 90, 99, 99.9 })
        {
            var expected = p / 100 * 100_000;
            var actual = histogram.ValueAtPercentile(p);
            Assert.InRange(actual, expected, expected * 1.01);
        }

        Assert.Equal(100_000, histogram.ValueAtPercentile(100));
        Assert.Equal((1, 100_000), (histogram.Min, histogram.Max));
    }

    [Fact]
    public void Merging_equals_recording_into_one()
    {
        var a = new LatencyHistogram();
        var b = new LatencyHistogram();
        var both = new LatencyHistogram();
        var random = new Random(42);
        for (var i = 0; i < 10_000; i++)
        {
            var v = (long)Math.Exp(random.NextDouble() * 16);
            (i % 2 == 0 ? a : b).RecordMicroseconds(v);
            both.RecordMicroseconds(v);
        }

        a.Merge(b);

        Assert.Equal(both.Count, a.Count);
        foreach (var p in new[] { 0, 10, 50, 90, 99, 99.9, 100 })
            Assert.Equal(both.ValueAtPercentile(p), a.ValueAtPercentile(p));
    }

    [Fact]
    public void An_empty_histogram_reports_zero_and_rejects_bad_percentiles()
    {
        var histogram = new LatencyHistogram();

        Assert.Equal(0, histogram.ValueAtPercentile(99));
        Assert.Throws<ArgumentOutOfRangeException>(() => histogram.ValueAtPercentile(101));
    }

    [Fact]
    public void Huge_values_are_clamped_to_the_maximum_seen()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(TimeSpan.FromDays(3650));

        Assert.Equal(histogram.Max, histogram.ValueAtPercentile(50));
    }
}
