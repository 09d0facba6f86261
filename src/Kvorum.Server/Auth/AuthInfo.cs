namespace Kvorum.Server.Auth;

/// <summary>
/// Who makes a request, as the member that received it resolved the client's token: the user, and the auth revision at
/// that moment (etcd's AuthInfo). A request without a token has no user and revision 0, which every check refuses
/// while authentication is enabled.
/// </summary>
/// <param name="User">The user's name; empty without a token.</param>
/// <param name="Revision">The auth revision when the token was resolved; 0 without a token.</param>
internal readonly record struct AuthInfo(string User, ulong Revision)
{
    /// <summary>A request made without a token.</summary>
    public static AuthInfo None => default;

    /// <summary>True when the request carried no (valid) token.</summary>
    public bool IsEmpty => Revision == 0 || string.IsNullOrEmpty(User);
}
