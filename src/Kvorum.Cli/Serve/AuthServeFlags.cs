using System.Globalization;
using Kvorum.Etcd.Serve;
using Kvorum.Server.Auth;

namespace Kvorum.Cli.Serve;

/// <summary><c>serve</c>'s auth flags (<c>--auth-token</c>, <c>--auth-token-ttl</c>, <c>--bcrypt-cost</c>), validated as etcd does.</summary>
internal static class AuthServeFlags
{
    /// <summary>Reads and checks the flags through <paramref name="raw"/> (flag, else environment, else null).</summary>
    /// <exception cref="UsageException">A value is malformed, or names a token kind not served.</exception>
    public static (string Token, TimeSpan Ttl, int BcryptCost) Parse(Func<string, string?> raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var token = (raw(ServeFlags.AuthToken) ?? "simple").Trim();
        // etcd's form is the kind, then comma-separated options (jwt,pub-key=...); only simple is served.
        var kind = token.Split(',')[0];
        if (kind != "simple")
            throw new UsageException($"{ServeFlags.AuthToken} must be simple (jwt tokens are not served yet), got \"{token}\"");

        var ttlText = raw(ServeFlags.AuthTokenTtl);
        uint ttlSeconds = 300;
        if (ttlText is not null && (!uint.TryParse(ttlText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out ttlSeconds) || ttlSeconds == 0))
            throw new UsageException($"{ServeFlags.AuthTokenTtl} must be a positive whole number of seconds, got \"{ttlText}\"");

        var costText = raw(ServeFlags.BcryptCost);
        var cost = PasswordHashing.DefaultCost;
        if (costText is not null
            && (!int.TryParse(costText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out cost) || cost < PasswordHashing.MinCost || cost > PasswordHashing.MaxCost))
            throw new UsageException($"{ServeFlags.BcryptCost} must be a whole number from {PasswordHashing.MinCost} to {PasswordHashing.MaxCost}, got \"{costText}\"");
        return (kind, TimeSpan.FromSeconds(ttlSeconds), cost);
    }
}
