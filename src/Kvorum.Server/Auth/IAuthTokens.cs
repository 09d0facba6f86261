namespace Kvorum.Server.Auth;

/// <summary>
/// The kind of token a member gives a user who logs in (etcd's token provider, chosen by <c>--auth-token</c>):
/// <see cref="SimpleTokens"/>, random strings every member remembers, or <see cref="JwtTokens"/>, signed and
/// self-contained. A login goes through Raft either way, so it is checked against the users in log order and its auth
/// revision is the one it was applied at.
/// </summary>
/// <remarks>
/// <see cref="Add"/>, <see cref="InvalidateUser"/> and <see cref="Clear"/> are called on the member loop as entries
/// apply; the rest by request threads.
/// </remarks>
internal interface IAuthTokens
{
    /// <summary>The token a login entry carries to every member ("" when the token is made after the login applies).</summary>
    string NewToken();

    /// <summary>
    /// A login of <paramref name="user"/> carrying <paramref name="token"/> was applied at log index
    /// <paramref name="index"/>; returns the token the client is given ("" when it is made by <see cref="Issue"/>).
    /// </summary>
    string Add(string token, string user, ulong index);

    /// <summary>
    /// The log index a member must have applied before it can know <paramref name="token"/> (its login's), or 0 when it
    /// need not wait: a client may present a token got from one member to another that has not applied the login yet.
    /// </summary>
    ulong KnownFrom(string token);

    /// <summary>
    /// The token the client that logged in is given, made on the member it asked, once the login has applied at auth
    /// revision <paramref name="login"/>.<see cref="AppliedLogin.Revision"/>.
    /// </summary>
    /// <exception cref="Etcd.Errors.EtcdException">This member may not sign tokens (a JWT public key only).</exception>
    string Issue(AppliedLogin login);

    /// <summary>
    /// Who a call with <paramref name="token"/> is made as: the token's user and auth revision (a simple token's is the
    /// current one, <paramref name="currentRevision"/>); false when the token is unknown, lapsed, forged or expired.
    /// </summary>
    bool TryResolve(string token, ulong currentRevision, out AuthInfo who);

    /// <summary>Drops every token of <paramref name="user"/>: it was deleted or its password changed.</summary>
    void InvalidateUser(string user);

    /// <summary>Drops every token: authentication was disabled.</summary>
    void Clear();
}

/// <summary>A login as applied: who logged in, at which auth revision, with the token its entry carried.</summary>
/// <param name="User">The user's name.</param>
/// <param name="Revision">The auth revision when the login applied.</param>
/// <param name="Token">The simple token the client is given, made when the login applied ("" for JWT).</param>
internal sealed record AppliedLogin(string User, ulong Revision, string Token);
