using System.Globalization;
using Kvorum.Etcd.Serve;
using Kvorum.Server.Auth;

namespace Kvorum.Cli.Serve;

/// <summary><c>serve</c>'s auth flags (<c>--auth-token</c>, <c>--auth-token-ttl</c>, <c>--bcrypt-cost</c>), validated as etcd does.</summary>
internal static class AuthServeFlags
{
    /// <summary>Reads and checks the flags through <paramref name="raw"/> (flag, else environment, else null).</summary>
    /// <exception cref="UsageException">A value is malformed, or a token option or key cannot be used.</exception>
    public static (string Token, TimeSpan Ttl, int BcryptCost) Parse(Func<string, string?> raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        var token = (raw(ServeFlags.AuthToken) ?? AuthTokenOptions.Simple).Trim();

        var ttlText = raw(ServeFlags.AuthTokenTtl);
        uint ttlSeconds = 300;
        if (ttlText is not null && (!uint.TryParse(ttlText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out ttlSeconds) || ttlSeconds == 0))
            throw new UsageException($"{ServeFlags.AuthTokenTtl} must be a positive whole number of seconds, got \"{ttlText}\"");

        var costText = raw(ServeFlags.BcryptCost);
        var cost = PasswordHashing.DefaultCost;
        if (costText is not null
            && (!int.TryParse(costText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out cost) || cost < PasswordHashing.MinCost || cost > PasswordHashing.MaxCost))
            throw new UsageException($"{ServeFlags.BcryptCost} must be a whole number from {PasswordHashing.MinCost} to {PasswordHashing.MaxCost}, got \"{costText}\"");
        // etcd's form is the kind, then comma-separated options (jwt,priv-key=...): checked, keys read, here, so that a
        // mistake ends serve with one line before anything starts; the member reads them again.
        try
        {
            _ = AuthTokenOptions.Create(token, TimeSpan.FromSeconds(ttlSeconds));
        }
        catch (AuthTokenOptionsException e)
        {
            throw new UsageException($"{ServeFlags.AuthToken}: {e.Message}");
        }
        return (token, TimeSpan.FromSeconds(ttlSeconds), cost);
    }
}
