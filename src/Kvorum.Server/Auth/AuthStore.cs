using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Auth;

/// <summary>
/// Applies the Auth service's changes to the replicated auth state, in log order, as etcd's auth store does: each
/// change is checked (root for everything but a login, and a user's reading of itself or of a role it has), then made,
/// and moves the auth revision (all but enabling, as etcd's). The state itself is an immutable <see cref="AuthData"/>, replaced on each change, that
/// any thread may read through <see cref="Current"/>.
/// </summary>
/// <remarks>Changes are applied on the member loop only.</remarks>
internal sealed class AuthStore(IAuthTokens tokens)
{
    private AuthData _current = AuthData.Initial;

    /// <summary>The state after the last change applied.</summary>
    public AuthData Current => Volatile.Read(ref _current);

    /// <summary>The member's tokens, which logins add to and some changes drop.</summary>
    public IAuthTokens Tokens { get; } = tokens;

    /// <summary>
    /// False while a restarting member replays its log: the logins it applied before it stopped record no token again,
    /// so that a restart gives it none (tokens are not replicated state) rather than giving back, for another TTL,
    /// tokens that had lapsed.
    /// </summary>
    public bool RecordsTokens { get; set; } = true;

    /// <summary>Replaces the whole state (a snapshot was installed).</summary>
    public void Restore(AuthData data) => Volatile.Write(ref _current, data);

    /// <summary>Applies <paramref name="change"/>, made as <paramref name="who"/>, at log index <paramref name="index"/>; returns etcd's response.</summary>
    /// <exception cref="EtcdException">The change is refused; the state is unchanged.</exception>
    public object Apply(AuthChange change, AuthInfo who, ulong index)
    {
        if (change.ChangeCase == AuthChange.ChangeOneofCase.Login)
            return Login(change.Login, index);
        var data = Current;
        if (NeedsRoot(change, data, who))
            RequestPermissions.CheckAdmin(data, who);
        var (next, response) = AuthChanges.Apply(data, change);
        if (next is not null)
        {
            // Enabling does not move the revision, as in etcd 3.4 (no token can predate it), so that both count alike and
            // JWT tokens of one are current on the other.
            var revision = change.ChangeCase == AuthChange.ChangeOneofCase.Enable ? data.Revision : data.Revision + 1;
            Volatile.Write(ref _current, next with { Revision = revision });
            ForgetTokens(change);
        }
        return response;
    }

    /// <summary>
    /// Whether only root may apply <paramref name="change"/>: everything but a login, a user's reading of itself, and
    /// a reading of a role the user has (etcd's rule).
    /// </summary>
    private static bool NeedsRoot(AuthChange change, AuthData data, AuthInfo who) => change.ChangeCase switch
    {
        AuthChange.ChangeOneofCase.Login => false,
        AuthChange.ChangeOneofCase.UserGet => change.UserGet.Name != who.User || who.User.Length == 0,
        AuthChange.ChangeOneofCase.RoleGet => data.UserNamed(who.User) is not { } user || !user.Roles.Contains(change.RoleGet.Role),
        _ => true,
    };

    /// <summary>A deleted user or a new password drops the user's tokens, a disable all of them.</summary>
    private void ForgetTokens(AuthChange change)
    {
        switch (change.ChangeCase)
        {
            case AuthChange.ChangeOneofCase.Disable:
                Tokens.Clear();
                break;
            case AuthChange.ChangeOneofCase.UserDelete:
                Tokens.InvalidateUser(change.UserDelete.Name);
                break;
            case AuthChange.ChangeOneofCase.UserChangePassword:
                Tokens.InvalidateUser(change.UserChangePassword.Name);
                break;
            default:
                break;
        }
    }

    /// <summary>
    /// Applies a login: the user must still exist and have a password; every member records the token. The member the
    /// client asked turns the result into its token (<see cref="IAuthTokens.Issue"/>).
    /// </summary>
    private AppliedLogin Login(AuthLogin login, ulong index)
    {
        var data = Current;
        if (!data.Enabled)
            throw new EtcdException(EtcdErrors.AuthNotEnabled);
        var user = data.UserNamed(login.Name);
        if (user is null || user.Options?.NoPassword == true)
            throw new EtcdException(EtcdErrors.AuthFailed);
        var token = RecordsTokens ? Tokens.Add(login.Token, login.Name, index) : "";
        return new AppliedLogin(login.Name, data.Revision, token);
    }
}
