using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;

namespace Kvorum.Server.Auth;

/// <summary>
/// etcd's simple tokens (<c>--auth-token simple</c>): random letters, a dot and the log index of the login, each naming
/// the user that logged in with it. A login goes through Raft (the proposing member chose the letters), so every member
/// records it when it applies the login and a client may use it on any member: a member that has not applied the login
/// yet waits for its index (<see cref="KnownFrom"/>), as etcd's does. A token lapses after <see cref="Ttl"/> without use (each use
/// starts the time again, as etcd's), and is dropped when its user is deleted or changes password, and when
/// authentication is disabled. Tokens are not replicated state: a member that restarts has none, and its clients
/// log in again (etcd's clients do on "invalid auth token").
/// </summary>
/// <remarks>Written on the member loop (logins and invalidations are applied there), read by any request thread.</remarks>
internal sealed class SimpleTokens(TimeSpan ttl, Func<long>? clockMs = null) : IAuthTokens
{
    private const string Letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    private const int RandomLength = 16;

    private readonly Func<long> _clockMs = clockMs ?? (static () => Environment.TickCount64);
    private readonly ConcurrentDictionary<string, Entry> _tokens = new(StringComparer.Ordinal);

    /// <summary>How long a token lives without use (etcd's <c>--auth-token-ttl</c>, 300 s by default).</summary>
    public TimeSpan Ttl { get; } = ttl;

    /// <summary>The random part of a new token, for a login to propose; applying the login adds its index.</summary>
    public string NewToken() => RandomNumberGenerator.GetString(Letters, RandomLength);

    /// <summary>
    /// Records the token of a login of <paramref name="user"/> with random part <paramref name="token"/>, applied at
    /// <paramref name="index"/>, and returns it: the random part, a dot and the index, as etcd's look.
    /// </summary>
    public string Add(string token, string user, ulong index)
    {
        var full = string.Create(CultureInfo.InvariantCulture, $"{token}.{index}");
        _tokens[full] = new Entry(user, Deadline());
        // Lapsed tokens that are never presented again are swept now and then, so logins do not pile up.
        if (Interlocked.Increment(ref _added) % SweepEvery == 0)
            SweepLapsed();
        return full;
    }

    /// <summary>The login's index after the token's last dot; 0 for a token not made here (which no wait would make known).</summary>
    public ulong KnownFrom(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        var dot = token.LastIndexOf('.');
        return dot == RandomLength && ulong.TryParse(token.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : 0;
    }

    private const int SweepEvery = 256;
    private long _added;

    private void SweepLapsed()
    {
        var now = _clockMs();
        foreach (var (token, entry) in _tokens)
        {
            if (entry.DeadlineMs <= now)
                _tokens.TryRemove(KeyValuePair.Create(token, entry));
        }
    }

    /// <summary>The user <paramref name="token"/> names, if the token is known and has not lapsed; its time starts again.</summary>
    public bool TryResolve(string token, out string user)
    {
        user = "";
        if (!_tokens.TryGetValue(token, out var entry))
            return false;
        if (entry.DeadlineMs <= _clockMs())
        {
            _tokens.TryRemove(KeyValuePair.Create(token, entry));
            return false;
        }
        _tokens.TryUpdate(token, entry with { DeadlineMs = Deadline() }, entry);
        user = entry.User;
        return true;
    }

    /// <inheritdoc />
    public string Issue(AppliedLogin login)
    {
        ArgumentNullException.ThrowIfNull(login);
        return login.Token;
    }

    /// <inheritdoc />
    public bool TryResolve(string token, ulong currentRevision, out AuthInfo who)
    {
        if (!TryResolve(token, out var user))
        {
            who = AuthInfo.None;
            return false;
        }
        who = new AuthInfo(user, currentRevision);
        return true;
    }

    /// <summary>Drops every token of <paramref name="user"/>: it was deleted or its password changed.</summary>
    public void InvalidateUser(string user)
    {
        foreach (var (token, entry) in _tokens)
        {
            if (entry.User == user)
                _tokens.TryRemove(token, out _);
        }
    }

    /// <summary>Drops every token: authentication was disabled.</summary>
    public void Clear() => _tokens.Clear();

    /// <summary>How many tokens are held (lapsed ones included until they are next looked up).</summary>
    public int Count => _tokens.Count;

    private long Deadline() => _clockMs() + (long)Ttl.TotalMilliseconds;

    private sealed record Entry(string User, long DeadlineMs);
}
