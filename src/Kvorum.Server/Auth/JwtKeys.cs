using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using Microsoft.IdentityModel.Tokens;

namespace Kvorum.Server.Auth;

/// <summary>
/// The options of etcd's JWT tokens, read and checked: <c>sign-method</c> (RS256, RS384, RS512, PS256, PS384,
/// PS512, ES256, ES384, ES512, HS256, HS384 or HS512; required), <c>priv-key</c> and <c>pub-key</c> (PEM files; with a
/// public key only, the member verifies tokens but cannot sign them, as etcd's), and <c>ttl</c> (a Go duration, 5m by
/// default). With an HMAC method, as etcd's, the bytes of the <c>priv-key</c> file, as they are, are the shared secret.
/// </summary>
/// <remarks>
/// Stricter than etcd in five ways, each a mistake etcd lets through: an unknown option is refused (etcd only warns), a
/// public key that does not match the private key is refused (etcd's check lets most through), an EC key must be on the
/// curve its method names (etcd finds out at the first login), an HMAC secret must be as long as the hash (RFC 7518
/// section 3.2 requires it; etcd takes any non-empty file), and a <c>pub-key</c> beside an HMAC method, which etcd
/// reads and ignores, is refused.
/// </remarks>
internal sealed partial class JwtKeys
{
    private const string SignMethodOption = "sign-method";
    private const string PublicKeyOption = "pub-key";
    private const string PrivateKeyOption = "priv-key";
    private const string TtlOption = "ttl";

    /// <summary>etcd's default lifetime of a token.</summary>
    public static readonly TimeSpan DefaultTtl = TimeSpan.FromMinutes(5);

    /// <summary>The smallest RSA key the token library signs with.</summary>
    private const int MinRsaBits = 2048;

    private static readonly string[] Known = [SignMethodOption, PublicKeyOption, PrivateKeyOption, TtlOption];

    private JwtKeys(string signMethod, SecurityKey? signingKey, SecurityKey verifyKey, TimeSpan ttl)
    {
        SignMethod = signMethod;
        SigningKey = signingKey;
        VerifyKey = verifyKey;
        Ttl = ttl;
    }

    /// <summary>The JWS algorithm name, as in the token's header.</summary>
    public string SignMethod { get; }

    /// <summary>The key tokens are signed with (a private key or the HMAC secret); null when the member verifies only.</summary>
    public SecurityKey? SigningKey { get; }

    /// <summary>The key tokens are checked with (the signing key itself when there is one).</summary>
    public SecurityKey VerifyKey { get; }

    /// <summary>How long a token is valid after it is signed.</summary>
    public TimeSpan Ttl { get; }

    /// <summary>The tokens these keys sign and verify.</summary>
    public JwtTokens Tokens() => new(this);

    /// <summary>Reads and checks the options and their key files.</summary>
    /// <exception cref="AuthTokenOptionsException">An option is unknown or malformed, a file unreadable, or a key unusable.</exception>
    public static JwtKeys Load(IReadOnlyDictionary<string, string> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Keys.FirstOrDefault(name => !Known.Contains(name)) is { } unknown)
            throw new AuthTokenOptionsException($"unknown jwt option \"{unknown}\" (sign-method, priv-key, pub-key, ttl)");
        var method = options.GetValueOrDefault(SignMethodOption, "");
        var family = method.Length == 5 ? method[..2] : "";
        if (method.Length == 0)
            throw new AuthTokenOptionsException("jwt needs sign-method=RS256|RS384|RS512|PS256|PS384|PS512|ES256|ES384|ES512|HS256|HS384|HS512");
        if (family is not ("RS" or "PS" or "ES" or "HS") || method[2..] is not ("256" or "384" or "512"))
            throw new AuthTokenOptionsException($"unknown jwt sign-method \"{method}\" (RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, HS256, HS384 or HS512)");
        var ttl = ParseTtl(options.GetValueOrDefault(TtlOption, ""));
        if (family == "HS")
        {
            var secret = new SymmetricSecurityKey(ReadSecret(options, method));
            return new JwtKeys(method, secret, secret, ttl);
        }

        var privateKey = ReadKey(options, PrivateKeyOption, family, isPrivate: true);
        var publicKey = ReadKey(options, PublicKeyOption, family, isPrivate: false);
        var verify = privateKey ?? publicKey
            ?? throw new AuthTokenOptionsException("jwt needs priv-key=PATH (to sign and verify) or pub-key=PATH (to verify only)");
        if (privateKey is not null && publicKey is not null && !SamePublicKey(privateKey, publicKey))
            throw new AuthTokenOptionsException("jwt pub-key does not match priv-key");
        CheckKeySize(verify, method);
        return new JwtKeys(method, privateKey is null ? null : SecurityKeyOf(privateKey), SecurityKeyOf(verify), ttl);
    }

    private static AsymmetricSecurityKey SecurityKeyOf(AsymmetricAlgorithm key) => key switch
    {
        RSA rsa => new RsaSecurityKey(rsa),
        ECDsa ec => new ECDsaSecurityKey(ec),
        _ => throw new ArgumentException("An RSA or EC key is needed.", nameof(key)),
    };

    /// <summary>
    /// The HMAC secret: every byte of the <c>priv-key</c> file, a final newline included, as etcd reads it, so that
    /// the same file gives the same secret on both.
    /// </summary>
    private static byte[] ReadSecret(IReadOnlyDictionary<string, string> options, string method)
    {
        if (options.GetValueOrDefault(PublicKeyOption, "").Length > 0)
            throw new AuthTokenOptionsException($"jwt sign-method {method} takes its secret from priv-key alone; pub-key is not used with an HMAC method");
        if (!options.TryGetValue(PrivateKeyOption, out var path) || path.Length == 0)
            throw new AuthTokenOptionsException($"jwt sign-method {method} needs priv-key=PATH, a file whose bytes are the shared secret");
        byte[] secret;
        try
        {
            secret = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AuthTokenOptionsException($"cannot read jwt priv-key {path}: {e.Message}", e);
        }
        // RFC 7518 section 3.2: a key at least as long as the hash; a shorter one can be found from any token offline.
        var bytes = int.Parse(method[2..], CultureInfo.InvariantCulture) / 8;
        if (secret.Length < bytes)
            throw new AuthTokenOptionsException($"jwt sign-method {method} needs a priv-key secret of at least {bytes} bytes, {path} has {secret.Length}");
        return secret;
    }

    /// <summary>A Go duration (<c>5m</c>, <c>1h30m</c>, <c>90s</c>); empty for etcd's default.</summary>
    private static TimeSpan ParseTtl(string text)
    {
        if (text.Length == 0)
            return DefaultTtl;
        var match = GoDuration().Match(text);
        var ticks = 0.0;
        foreach (Capture part in match.Groups["part"].Captures)
        {
            var unit = part.Value.TrimStart("0123456789.".ToCharArray());
            var number = double.Parse(part.Value[..^unit.Length], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
            ticks += number * unit switch
            {
                "ns" => 0.01,
                "us" or "µs" => 10,
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                _ => TimeSpan.TicksPerHour,
            };
        }
        if (!match.Success || ticks < TimeSpan.TicksPerSecond || ticks > TimeSpan.FromDays(365 * 100).Ticks)
            throw new AuthTokenOptionsException($"jwt ttl must be a duration of at least 1s such as 5m or 1h, got \"{text}\"");
        return TimeSpan.FromTicks((long)ticks);
    }

    [GeneratedRegex(@"^(?<part>[0-9]+(\.[0-9]*)?(ns|us|µs|ms|s|m|h))+$", RegexOptions.CultureInvariant)]
    private static partial Regex GoDuration();

    /// <summary>The key in the file an option names, or null without the option.</summary>
    private static AsymmetricAlgorithm? ReadKey(IReadOnlyDictionary<string, string> options, string option, string family, bool isPrivate)
    {
        if (!options.TryGetValue(option, out var path) || path.Length == 0)
            return null;
        string pem;
        try
        {
            pem = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AuthTokenOptionsException($"cannot read jwt {option} {path}: {e.Message}", e);
        }
        var kind = family == "ES" ? "EC" : "RSA";
        var what = isPrivate ? "private" : "public";
        AsymmetricAlgorithm key = family == "ES" ? ECDsa.Create() : RSA.Create();
        try
        {
            if (!isPrivate && pem.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
            {
                // As etcd's, a public key may come as a certificate.
                using var certificate = X509Certificate2.CreateFromPem(pem);
                key.Dispose();
                key = (AsymmetricAlgorithm?)(family == "ES" ? certificate.GetECDsaPublicKey() : certificate.GetRSAPublicKey())
                    ?? throw new CryptographicException("the certificate's key is of another kind");
            }
            else
            {
                key.ImportFromPem(pem);
            }
            if (isPrivate)
                HasPrivatePart(key);
            return key;
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new AuthTokenOptionsException($"jwt {option} {path} is not an {kind} {what} key in PEM, as sign-method {options[SignMethodOption]} needs", e);
        }
    }

    /// <summary>Throws when <paramref name="key"/> holds a public key only.</summary>
    private static void HasPrivatePart(AsymmetricAlgorithm key)
    {
        _ = key switch
        {
            RSA rsa => rsa.ExportParameters(includePrivateParameters: true),
            ECDsa ec => (object)ec.ExportParameters(includePrivateParameters: true),
            _ => throw new CryptographicException("not a key"),
        };
    }

    private static bool SamePublicKey(AsymmetricAlgorithm privateKey, AsymmetricAlgorithm publicKey) =>
        privateKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(publicKey.ExportSubjectPublicKeyInfo());

    /// <summary>An EC key on the curve its method names (P-256, P-384, P-521); an RSA key the library signs with.</summary>
    private static void CheckKeySize(AsymmetricAlgorithm key, string method)
    {
        if (key is ECDsa ec)
        {
            var bits = method[2..] switch { "256" => 256, "384" => 384, _ => 521 };
            if (ec.KeySize != bits)
                throw new AuthTokenOptionsException($"jwt sign-method {method} needs a P-{bits} key, got a {ec.KeySize}-bit EC key");
        }
        else if (key.KeySize < MinRsaBits)
        {
            throw new AuthTokenOptionsException($"jwt RSA keys must have at least {MinRsaBits} bits, got {key.KeySize}");
        }
    }
}
