using Kvorum.Lab.Scenarios;

namespace Kvorum.Lab.Tests.Lab;

public class PercentilesTests
{
    [Fact]
    public void Nearest_rank_percentiles()
    {
        TimeSpan[] values = [.. Enumerable.Range(1, 100).Select(i => TimeSpan.FromMilliseconds(i))];
        Assert.Equal(TimeSpan.FromMilliseconds(50), Percentiles.Of(values, 50));
        Assert.Equal(TimeSpan.FromMilliseconds(99), Percentiles.Of(values, 99));
        Assert.Equal(TimeSpan.FromMilliseconds(100), Percentiles.Of(values, 100));
        Assert.Equal(TimeSpan.FromMilliseconds(7), Percentiles.Of([TimeSpan.FromMilliseconds(7)], 99));
        Assert.Equal(TimeSpan.Zero, Percentiles.Of([], 50));
    }
}
