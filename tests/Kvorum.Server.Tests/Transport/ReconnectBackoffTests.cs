using Kvorum.Server.Transport;

namespace Kvorum.Server.Tests.Transport;

public class ReconnectBackoffTests
{
    [Fact]
    public void Delays_double_from_the_minimum_up_to_the_maximum_with_jitter_down_to_half()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1));
        double[] ceilings = [50, 100, 200, 400, 800, 1000, 1000, 1000];

        foreach (var ceiling in ceilings)
            Assert.InRange(backoff.Next().TotalMilliseconds, ceiling / 2, ceiling);

        for (var i = 0; i < 100; i++)
            Assert.InRange(backoff.Next().TotalMilliseconds, 500, 1000); // no overflow after many failures
    }

    [Fact]
    public void Reset_starts_again_from_the_minimum()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(1));
        for (var i = 0; i < 10; i++)
            backoff.Next();

        backoff.Reset();

        Assert.InRange(backoff.Next().TotalMilliseconds, 25, 50);
    }
}
