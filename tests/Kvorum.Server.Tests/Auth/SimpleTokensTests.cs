using Kvorum.Server.Auth;

namespace Kvorum.Server.Tests.Auth;

/// <summary>etcd's simple tokens (<see cref="SimpleTokens"/>): naming their login's index, lapsing without use, and dropped with their user.</summary>
public sealed class SimpleTokensTests
{
    [Fact]
    public void A_token_lapses_after_its_ttl_without_use_and_each_use_starts_the_time_again()
    {
        long now = 0;
        var tokens = new SimpleTokens(TimeSpan.FromSeconds(10), () => now);
        var token = tokens.Add(tokens.NewToken(), "alice", 7);
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
        a = tokens.Add(a, "alice", 7);
        b = tokens.Add(b, "bob", 8);
        tokens.InvalidateUser("alice");
        Assert.False(tokens.TryResolve(a, out _));
        Assert.True(tokens.TryResolve(b, out _));
        tokens.Clear();
        Assert.False(tokens.TryResolve(b, out _));
    }

    [Fact]
    public void A_token_is_its_random_part_a_dot_and_its_logins_index_which_a_member_must_apply_to_know_it()
    {
        var tokens = new SimpleTokens(TimeSpan.FromMinutes(5));
        var random = tokens.NewToken();
        Assert.Matches("^[a-zA-Z]{16}$", random);
        Assert.False(tokens.TryResolve(random, out _));
        var token = tokens.Add(random, "alice", 1234);
        Assert.Equal(random + ".1234", token);
        Assert.True(tokens.TryResolve(token, out var user));
        Assert.Equal("alice", user);
        Assert.Equal(1234UL, tokens.KnownFrom(token));
        // Not made here (or not by a simple-token member): no index to wait for.
        Assert.Equal(0UL, tokens.KnownFrom("abc.1234"));
        Assert.Equal(0UL, tokens.KnownFrom(random + ".-5"));
        Assert.Equal(0UL, tokens.KnownFrom(random + ".99999999999999999999999"));
        Assert.Equal(0UL, tokens.KnownFrom(random));
        Assert.Equal(0UL, tokens.KnownFrom(""));
    }
}
