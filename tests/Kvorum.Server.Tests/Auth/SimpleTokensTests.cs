using Kvorum.Server.Auth;

namespace Kvorum.Server.Tests.Auth;

/// <summary>etcd's simple tokens (<see cref="SimpleTokens"/>): lapsing without use, and dropped with their user.</summary>
public sealed class SimpleTokensTests
{
    [Fact]
    public void A_token_lapses_after_its_ttl_without_use_and_each_use_starts_the_time_again()
    {
        long now = 0;
        var tokens = new SimpleTokens(TimeSpan.FromSeconds(10), () => now);
        var token = tokens.NewToken();
        tokens.Add(token, "alice");
        now = 9_000;
        Assert.True(tokens.TryResolve(token, out var user));
        Assert.Equal("alice", user);
        now = 18_000;
        Assert.True(tokens.TryResolve(token, out _));
        now = 28_001;
        Assert.False(tokens.TryResolve(token, out _));
    }

    [Fact]
    public void Tokens_are_dropped_with_their_user_or_all_at_once()
    {
        var tokens = new SimpleTokens(TimeSpan.FromMinutes(5));
        var (a, b) = (tokens.NewToken(), tokens.NewToken());
        Assert.NotEqual(a, b);
        tokens.Add(a, "alice");
        tokens.Add(b, "bob");
        tokens.InvalidateUser("alice");
        Assert.False(tokens.TryResolve(a, out _));
        Assert.True(tokens.TryResolve(b, out _));
        tokens.Clear();
        Assert.False(tokens.TryResolve(b, out _));
    }
}
