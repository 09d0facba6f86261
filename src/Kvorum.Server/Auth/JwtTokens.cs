using System.Text;
using System.Text.Json;
using Kvorum.Etcd.Errors;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Kvorum.Server.Auth;

/// <summary>
/// etcd's JWT tokens (<c>--auth-token jwt,...</c>): a login gets a token signed with the member's key whose claims
/// are etcd's, <c>username</c>, <c>revision</c> (the auth revision the login applied at) and <c>exp</c>. Any member
/// with the key verifies it without remembering anything, so a token outlives a restart and nothing is replicated
/// but the login itself. A token is refused ("invalid auth token") when its signature, algorithm or expiry is wrong;
/// after any change of users or roles its revision is old, and the permission checks refuse it with etcd's "revision of
/// auth store is old". Tokens of etcd members that share the key pair are accepted, and the other way round.
/// </summary>
/// <remarks>Stateless, so the member loop's invalidations are no-ops; any thread may sign and verify.</remarks>
internal sealed class JwtTokens : IAuthTokens
{
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly SigningCredentials? _signing;
    private readonly TokenValidationParameters _validation;
    private readonly Func<DateTimeOffset> _now;

    /// <summary>Tokens signed and checked with <paramref name="keys"/>.</summary>
    /// <param name="keys">The checked options.</param>
    /// <param name="now">The wall clock a token's expiry is counted from; the system's when not given.</param>
    public JwtTokens(JwtKeys keys, Func<DateTimeOffset>? now = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        Keys = keys;
        _now = now ?? (static () => DateTimeOffset.UtcNow);
        if (keys.SigningKey is { } signingKey)
            _signing = new SigningCredentials(signingKey, keys.SignMethod);
        _validation = new TokenValidationParameters
        {
            IssuerSigningKey = keys.VerifyKey,
            // Only the configured method, as etcd's: no "none", and no other algorithm over the same key.
            ValidAlgorithms = [keys.SignMethod],
            RequireSignedTokens = true,
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateIssuerSigningKey = false,
            ValidateLifetime = true,
            // etcd checks exp when a token has one; its own tokens always do.
            RequireExpirationTime = false,
            ClockSkew = TimeSpan.Zero,
        };
    }

    /// <summary>The method, keys and lifetime.</summary>
    public JwtKeys Keys { get; }

    /// <summary>No token travels in the login entry: the member the client asked signs one once it applies.</summary>
    public string NewToken() => "";

    /// <inheritdoc />
    public string Add(string token, string user, ulong index) => "";

    /// <summary>A signed token is self-contained: any member can check it at once.</summary>
    public ulong KnownFrom(string token) => 0;

    /// <summary>A token for the login, expiring <see cref="JwtKeys.Ttl"/> from now.</summary>
    /// <exception cref="EtcdException">The member has a public key only (etcd's "token signing attempted with verify-only key").</exception>
    public string Issue(AppliedLogin login)
    {
        ArgumentNullException.ThrowIfNull(login);
        if (_signing is null)
            throw new EtcdException(EtcdErrors.AuthVerifyOnly);
        return _handler.CreateToken(Claims(login.User, login.Revision, _now() + Keys.Ttl), _signing);
    }

    /// <summary>etcd's claims, in the order Go writes a map: exp, revision, username.</summary>
    private static string Claims(string user, ulong revision, DateTimeOffset expires)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("exp", expires.ToUnixTimeSeconds());
            json.WriteNumber("revision", revision);
            json.WriteString("username", user);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <inheritdoc />
    public bool TryResolve(string token, ulong currentRevision, out AuthInfo who)
    {
        who = AuthInfo.None;
        // The handler completes at once: it has its key and fetches no configuration.
        var result = _handler.ValidateTokenAsync(token, _validation).GetAwaiter().GetResult();
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt
            || !jwt.TryGetPayloadValue<string>("username", out var user) || user is null
            || !jwt.TryGetPayloadValue<long>("revision", out var revision) || revision < 0)
            return false;
        who = new AuthInfo(user, (ulong)revision);
        return true;
    }

    /// <summary>A token names no one but its user, and lapses by itself: nothing to drop.</summary>
    public void InvalidateUser(string user)
    {
    }

    /// <inheritdoc />
    public void Clear()
    {
    }
}
