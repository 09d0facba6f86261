namespace Kvorum.Server.Auth;

/// <summary>
/// Reads etcd's <c>--auth-token</c> value: the kind of token, then comma-separated <c>name=value</c> options, as
/// <c>jwt,pub-key=PATH,priv-key=PATH,sign-method=RS256,ttl=5m</c>; and makes the member's <see cref="IAuthTokens"/>.
/// </summary>
internal static class AuthTokenOptions
{
    /// <summary>etcd's default kind.</summary>
    public const string Simple = "simple";

    /// <summary>Signed JSON Web Tokens.</summary>
    public const string Jwt = "jwt";

    /// <summary>The tokens <paramref name="value"/> asks for; keys are read now.</summary>
    /// <param name="value">The flag's value.</param>
    /// <param name="simpleTtl">How long a simple token lives without use (<c>--auth-token-ttl</c>).</param>
    /// <exception cref="AuthTokenOptionsException">The value is malformed, or a key cannot be used.</exception>
    public static IAuthTokens Create(string value, TimeSpan simpleTtl)
    {
        ArgumentNullException.ThrowIfNull(value);
        var (kind, options) = Decompose(value);
        return kind switch
        {
            Simple when options.Count == 0 => new SimpleTokens(simpleTtl),
            Simple => throw new AuthTokenOptionsException("simple tokens take no options"),
            Jwt => JwtKeys.Load(options).Tokens(),
            _ => throw new AuthTokenOptionsException($"unknown token kind \"{kind}\" (simple or jwt)"),
        };
    }

    /// <summary>The kind and its options; as etcd, an option without exactly one '=' or given twice is refused.</summary>
    private static (string Kind, Dictionary<string, string> Options) Decompose(string value)
    {
        var parts = value.Trim().Split(',');
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in parts.Skip(1))
        {
            var pair = part.Split('=');
            if (pair.Length != 2)
                throw new AuthTokenOptionsException($"option \"{part}\" is not name=value");
            if (!options.TryAdd(pair[0], pair[1]))
                throw new AuthTokenOptionsException($"option \"{pair[0]}\" is given twice");
        }
        return (parts[0], options);
    }
}

/// <summary>An <c>--auth-token</c> value that cannot be served; the message is one line, for the operator.</summary>
internal sealed class AuthTokenOptionsException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AuthTokenOptionsException()
    {
    }

    /// <summary>Creates the exception with its message.</summary>
    public AuthTokenOptionsException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its message and cause.</summary>
    public AuthTokenOptionsException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
