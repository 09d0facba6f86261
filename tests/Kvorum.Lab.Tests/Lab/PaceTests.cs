using Kvorum.Etcd.Serve;

namespace Kvorum.Lab.Tests.Lab;

/// <summary><c>--pace N</c>: both timeouts multiplied, defaults included; out-of-range values refused in one line.</summary>
public class PaceTests
{
    [Fact]
    public void Pace_multiplies_the_default_heartbeat_and_election_timeout()
    {
        var paced = Pace.Apply(new ServeArguments { PreVote = false }, 10);
        Assert.Equal(1000, paced.HeartbeatIntervalMs);
        Assert.Equal(10_000, paced.ElectionTimeoutMs);
        Assert.False(paced.PreVote);
        Assert.Equal("pace 10: heartbeat 1000 ms, election timeout 10000 ms", Pace.Describe(paced, 10));
    }

    [Fact]
    public void Pace_multiplies_timeouts_that_were_given()
    {
        var paced = Pace.Apply(new ServeArguments { HeartbeatIntervalMs = 50, ElectionTimeoutMs = 500 }, 4);
        Assert.Equal(200, paced.HeartbeatIntervalMs);
        Assert.Equal(2000, paced.ElectionTimeoutMs);
        string[] args = [.. paced.ToFlags()];
        Assert.Equal("2000", args[Array.IndexOf(args, ServeFlags.ElectionTimeout) + 1]);
        Assert.Equal("200", args[Array.IndexOf(args, ServeFlags.HeartbeatInterval) + 1]);
    }

    [Fact]
    public void Pace_1_leaves_the_serve_flags_as_they_were()
    {
        var serve = new ServeArguments();
        Assert.Same(serve, Pace.Apply(serve, 1));
        Assert.Empty(Pace.Apply(serve, 1).ToFlags());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    [InlineData(1001)]
    public void A_pace_out_of_range_is_refused_in_one_line(int pace)
    {
        Assert.Equal($"--pace must be a whole number from 1 to 1000, got {pace}", Pace.Check(pace));
        Assert.Throws<ArgumentOutOfRangeException>(() => Pace.Apply(new ServeArguments(), pace));
    }
}
