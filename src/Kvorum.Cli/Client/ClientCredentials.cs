namespace Kvorum.Cli.Client;

/// <summary>The user a client command logs in as (<c>--user name[:password]</c>, <c>--password</c>).</summary>
/// <param name="User">The user's name.</param>
/// <param name="Password">The password (asked for when the flags do not give it).</param>
internal sealed record ClientCredentials(string User, string Password)
{
    /// <summary>Never the password: these settings may end up in a message.</summary>
    public override string ToString() => $"user {User}";
}
