using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Auth;

namespace Kvorum.Server.Tests.Auth;

/// <summary>
/// etcd's JWT tokens (<see cref="JwtTokens"/>, <see cref="JwtKeys"/>): a token round-trips with its user and auth
/// revision; an expired, tampered, foreign-key or other-algorithm token is refused; an old revision is refused by the
/// permission checks; a public key only verifies; an HMAC secret is the key file's bytes as they are; and every unusable
/// option is one line.
/// </summary>
public sealed class JwtTokensTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kvorum-jwt-").FullName;

    [Theory]
    [InlineData("RS256")]
    [InlineData("PS384")]
    [InlineData("ES256")]
    [InlineData("ES512")]
    [InlineData("HS256")]
    [InlineData("HS512")]
    public void A_token_carries_its_user_and_revision_and_etcds_claims(string method)
    {
        var tokens = Tokens(method, KeyFor(method, "a"));
        var token = tokens.Issue(new AppliedLogin("alice", 7, ""));

        Assert.True(tokens.TryResolve(token, currentRevision: 9, out var who));
        Assert.Equal(new AuthInfo("alice", 7), who);
        var parts = token.Split('.');
        Assert.Equal(3, parts.Length);
        Assert.Contains($"\"alg\":\"{method}\"", Base64UrlText(parts[0]), StringComparison.Ordinal);
        var claims = Base64UrlText(parts[1]);
        Assert.Matches("""^\{"exp":\d+,"revision":7,"username":"alice"\}$""", claims);
        var exp = long.Parse(claims.Split(':')[1].Split(',')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(exp - DateTimeOffset.UtcNow.ToUnixTimeSeconds(), 290, 301);
    }

    [Fact]
    public void An_expired_token_is_refused()
    {
        var key = KeyFor("ES256", "a");
        var past = Tokens("ES256", key, now: () => DateTimeOffset.UtcNow.AddMinutes(-6));
        var token = past.Issue(new AppliedLogin("alice", 2, ""));
        Assert.False(Tokens("ES256", key).TryResolve(token, 2, out var who));
        Assert.Equal(AuthInfo.None, who);
        Assert.True(Tokens("ES256", key, now: () => DateTimeOffset.UtcNow.AddMinutes(-4)).Issue(new AppliedLogin("alice", 2, "")) is { } fresh
            && Tokens("ES256", key).TryResolve(fresh, 2, out _));
    }

    [Fact]
    public void A_tampered_token_or_one_signed_with_another_key_or_method_is_refused()
    {
        var key = KeyFor("RS256", "a");
        var tokens = Tokens("RS256", key);
        var token = tokens.Issue(new AppliedLogin("alice", 2, ""));
        var parts = token.Split('.');
        var root = Base64Url(Base64UrlText(parts[1]).Replace("\"alice\"", "\"root\"", StringComparison.Ordinal));
        Assert.False(tokens.TryResolve($"{parts[0]}.{root}.{parts[2]}", 2, out _));
        var newer = Base64Url(Base64UrlText(parts[1]).Replace("\"revision\":2", "\"revision\":3", StringComparison.Ordinal));
        Assert.False(tokens.TryResolve($"{parts[0]}.{newer}.{parts[2]}", 2, out _));
        Assert.False(tokens.TryResolve($"{parts[0]}.{parts[1]}.", 2, out _));
        Assert.False(tokens.TryResolve(Base64Url("""{"alg":"none","typ":"JWT"}""") + "." + parts[1] + ".", 2, out _));
        Assert.False(tokens.TryResolve("not a token", 2, out _));

        Assert.False(tokens.TryResolve(Tokens("RS256", KeyFor("RS256", "b")).Issue(new AppliedLogin("alice", 2, "")), 2, out _));
        Assert.False(tokens.TryResolve(Tokens("PS256", key).Issue(new AppliedLogin("alice", 2, "")), 2, out _));
        Assert.True(tokens.TryResolve(token, 2, out _));
    }

    [Fact]
    public void A_token_from_before_an_auth_change_is_refused_with_etcds_old_revision_error()
    {
        var tokens = Tokens("ES384", KeyFor("ES384", "a"));
        Assert.True(tokens.TryResolve(tokens.Issue(new AppliedLogin("root", 5, "")), 6, out var who));
        var root = new User { Name = AuthData.Name("root"), Roles = { AuthData.Root } };
        var data = AuthData.Initial with { Enabled = true, Users = AuthData.Initial.Users.Add("root", root) };

        RequestPermissions.CheckRead(data with { Revision = 5 }, who, ByteString.CopyFromUtf8("k"), ByteString.Empty);
        var e = Assert.Throws<EtcdException>(() => RequestPermissions.CheckRead(data with { Revision = 6 }, who, ByteString.CopyFromUtf8("k"), ByteString.Empty));
        Assert.Equal(EtcdErrors.AuthOldRevision, e.Error);
    }

    [Fact]
    public void A_public_key_alone_verifies_but_does_not_sign()
    {
        var (privatePath, publicPath) = KeyFor("PS512", "a");
        var signer = Tokens("PS512", (privatePath, null));
        var verifier = (JwtTokens)AuthTokenOptions.Create($"jwt,sign-method=PS512,pub-key={publicPath}", TimeSpan.FromMinutes(5));

        Assert.True(verifier.TryResolve(signer.Issue(new AppliedLogin("alice", 4, "")), 4, out var who));
        Assert.Equal("alice", who.User);
        var e = Assert.Throws<EtcdException>(() => verifier.Issue(new AppliedLogin("alice", 4, "")));
        Assert.Equal(EtcdErrors.AuthVerifyOnly, e.Error);
    }

    [Fact]
    public void An_hmac_token_is_signed_with_every_byte_of_the_key_file_and_no_other_key_verifies_it()
    {
        var secret = Encoding.ASCII.GetBytes(new string('s', 63) + "\n");
        var path = Path.Combine(_dir, "hmac.key");
        File.WriteAllBytes(path, secret);
        var tokens = Tokens("HS256", (path, null));
        var token = tokens.Issue(new AppliedLogin("alice", 3, ""));

        // What etcd computes from the same file: HMAC-SHA256 over header.claims, with the newline in the key.
        var parts = token.Split('.');
        var mac = HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]));
        Assert.Equal(System.Buffers.Text.Base64Url.EncodeToString(mac), parts[2]);

        File.WriteAllBytes(path, secret[..^1]);
        Assert.False(Tokens("HS256", (path, null)).TryResolve(token, 3, out _));
        File.WriteAllBytes(path, secret);
        Assert.False(Tokens("HS384", (path, null)).TryResolve(token, 3, out _));
        Assert.True(Tokens("HS256", (path, null)).TryResolve(token, 3, out var who));
        Assert.Equal(new AuthInfo("alice", 3), who);
    }

    [Fact]
    public void An_hmac_token_keyed_with_the_public_key_file_is_refused_by_a_member_of_an_rsa_method()
    {
        // The classic confusion: a public key is public, so a token "signed" HS256 with its PEM text must not pass.
        var (privatePath, publicPath) = KeyFor("RS256", "a");
        var forged = Tokens("HS256", (publicPath, null)).Issue(new AppliedLogin("root", 2, ""));
        var verifier = (JwtTokens)AuthTokenOptions.Create($"jwt,sign-method=RS256,pub-key={publicPath}", TimeSpan.FromMinutes(5));

        Assert.False(verifier.TryResolve(forged, 2, out _));
        Assert.False(Tokens("RS256", (privatePath, null)).TryResolve(forged, 2, out _));
        Assert.True(verifier.TryResolve(Tokens("RS256", (privatePath, null)).Issue(new AppliedLogin("root", 2, "")), 2, out _));
    }

    [Fact]
    public void Unusable_options_are_one_line_each()
    {
        var (rsaPrivate, rsaPublic) = KeyFor("RS256", "rsa");
        var (ecPrivate, ecPublic) = KeyFor("ES256", "ec");
        var (_, otherPublic) = KeyFor("RS256", "other");
        var missing = Path.Combine(_dir, "missing.pem");
        var shortSecret = Path.Combine(_dir, "short.key");
        File.WriteAllBytes(shortSecret, new byte[47]);
        foreach (var (value, expected) in new[]
        {
            ("jwt,priv-key=" + rsaPrivate + ",sign-method=XS256", "unknown jwt sign-method \"XS256\""),
            ("jwt,priv-key=" + rsaPrivate + ",sign-method=HS255", "unknown jwt sign-method \"HS255\""),
            ("jwt,sign-method=HS256", "jwt sign-method HS256 needs priv-key=PATH, a file whose bytes are the shared secret"),
            ("jwt,priv-key=" + missing + ",sign-method=HS256", "cannot read jwt priv-key " + missing),
            ("jwt,priv-key=" + shortSecret + ",sign-method=HS384", "jwt sign-method HS384 needs a priv-key secret of at least 48 bytes, " + shortSecret + " has 47"),
            ("jwt,priv-key=" + rsaPrivate + ",pub-key=" + rsaPublic + ",sign-method=HS512", "jwt sign-method HS512 takes its secret from priv-key alone"),
            ("jwt,priv-key=" + rsaPrivate, "jwt needs sign-method="),
            ("jwt,sign-method=RS256", "jwt needs priv-key=PATH"),
            ("jwt,priv-key=" + missing + ",sign-method=RS256", "cannot read jwt priv-key " + missing),
            ("jwt,priv-key=" + ecPrivate + ",sign-method=RS256", "jwt priv-key " + ecPrivate + " is not an RSA private key"),
            ("jwt,priv-key=" + rsaPrivate + ",sign-method=ES256", "jwt priv-key " + rsaPrivate + " is not an EC private key"),
            ("jwt,priv-key=" + rsaPublic + ",sign-method=RS256", "jwt priv-key " + rsaPublic + " is not an RSA private key"),
            ("jwt,priv-key=" + ecPrivate + ",sign-method=ES384", "jwt sign-method ES384 needs a P-384 key"),
            ("jwt,pub-key=" + ecPublic + ",sign-method=ES512", "jwt sign-method ES512 needs a P-521 key"),
            ("jwt,priv-key=" + rsaPrivate + ",pub-key=" + otherPublic + ",sign-method=RS256", "jwt pub-key does not match priv-key"),
            ("jwt,priv-key=" + rsaPrivate + ",sign-method=RS256,ttl=5", "jwt ttl must be a duration"),
            ("jwt,priv-key=" + rsaPrivate + ",sign-method=RS256,ttl=500ms", "jwt ttl must be a duration"),
            ("jwt,priv-key=" + rsaPrivate + ",sign-method=RS256,privkey=x", "unknown jwt option \"privkey\""),
            ("jwt,priv-key=" + rsaPrivate + ",sign-method=RS256,sign-method=RS256", "option \"sign-method\" is given twice"),
            ("jwt,priv-key", "option \"priv-key\" is not name=value"),
            ("simple,ttl=5m", "simple tokens take no options"),
            ("opaque", "unknown token kind \"opaque\""),
        })
        {
            var e = Assert.Throws<AuthTokenOptionsException>(() => AuthTokenOptions.Create(value, TimeSpan.FromMinutes(5)));
            Assert.StartsWith(expected, e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', e.Message);
        }
        var good = (JwtTokens)AuthTokenOptions.Create($"jwt,priv-key={rsaPrivate},pub-key={rsaPublic},sign-method=RS384,ttl=1h30m", TimeSpan.FromMinutes(5));
        Assert.Equal(TimeSpan.FromMinutes(90), good.Keys.Ttl);
        File.WriteAllBytes(shortSecret, new byte[48]);
        Assert.IsType<JwtTokens>(AuthTokenOptions.Create($"jwt,priv-key={shortSecret},sign-method=HS384", TimeSpan.FromMinutes(5)));
        Assert.IsType<SimpleTokens>(AuthTokenOptions.Create("simple", TimeSpan.FromMinutes(5)));
    }

    private JwtTokens Tokens(string method, (string Private, string? Public) key, Func<DateTimeOffset>? now = null) =>
        new(JwtKeys.Load(new Dictionary<string, string> { ["sign-method"] = method, ["priv-key"] = key.Private }), now);

    /// <summary>
    /// A new key pair for <paramref name="method"/>, written as PKCS#8 and SubjectPublicKeyInfo PEM files; for an HMAC
    /// method a random secret of 64 bytes, as a file etcd reads (no public file).
    /// </summary>
    private (string Private, string Public) KeyFor(string method, string name)
    {
        if (method.StartsWith("HS", StringComparison.Ordinal))
        {
            var secretPath = Path.Combine(_dir, name + ".secret");
            File.WriteAllBytes(secretPath, RandomNumberGenerator.GetBytes(64));
            return (secretPath, "");
        }
        using AsymmetricAlgorithm key = method[..2] == "ES"
            ? ECDsa.Create(method[2..] switch { "256" => ECCurve.NamedCurves.nistP256, "384" => ECCurve.NamedCurves.nistP384, _ => ECCurve.NamedCurves.nistP521 })
            : RSA.Create(2048);
        var (privatePath, publicPath) = (Path.Combine(_dir, name + ".key"), Path.Combine(_dir, name + ".pub"));
        File.WriteAllText(privatePath, key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(publicPath, key.ExportSubjectPublicKeyInfoPem());
        return (privatePath, publicPath);
    }

    private static string Base64UrlText(string part) => Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(part));

    private static string Base64Url(string text) => System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text));

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
