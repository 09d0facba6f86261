namespace Kvorum.Server.Auth;

/// <summary>
/// Users' passwords, hashed with bcrypt as etcd's are, so that what the log, snapshots and backups hold cannot be
/// turned back into a password. Hashing happens on the member that receives the request, before it proposes the change
/// (each member applying a hash it was given is cheap and gives every member the same bytes); checking a login's
/// password happens there too, before the login is proposed.
/// </summary>
internal static class PasswordHashing
{
    /// <summary>etcd's default bcrypt cost (<c>--bcrypt-cost</c>): 2^10 rounds.</summary>
    public const int DefaultCost = 10;

    /// <summary>The smallest cost bcrypt takes, which tests use to stay fast.</summary>
    public const int MinCost = 4;

    /// <summary>The largest cost bcrypt takes.</summary>
    public const int MaxCost = 31;

    /// <summary>A bcrypt hash of <paramref name="password"/> with a fresh salt, at <paramref name="cost"/>.</summary>
    public static string Hash(string password, int cost) =>
        BCrypt.Net.BCrypt.HashPassword(password, Math.Clamp(cost, MinCost, MaxCost));

    /// <summary>True when <paramref name="password"/> is the one <paramref name="hash"/> was made from.</summary>
    public static bool Verify(string password, string hash)
    {
        try
        {
            return hash.Length > 0 && BCrypt.Net.BCrypt.Verify(password, hash);
        }
        catch (BCrypt.Net.SaltParseException)
        {
            return false; // not a bcrypt hash: no password matches it
        }
    }
}
