using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Auth;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Node;

/// <summary>
/// Users, roles and tokens on the member: resolving a client's token, logging in (the password checked here, the
/// token recorded on every member through Raft), and proposing auth changes with the user who asks for them.
/// </summary>
internal sealed partial class KvorumNode
{
    /// <summary>The auth state after the last entry applied; any thread may read it.</summary>
    public AuthData AuthState => _state.Auth.Current;

    /// <summary>This member's tokens.</summary>
    internal IAuthTokens AuthTokens => _state.Auth.Tokens;

    /// <summary>
    /// Who a call with <paramref name="token"/> (the <c>token</c> metadata, or null) is made as: with authentication
    /// disabled, or without a token, no one; otherwise the token's user at the current auth revision. An empty token is
    /// a token, and refused (as etcd does).
    /// </summary>
    /// <exception cref="EtcdException">
    /// The token is unknown, has lapsed, was invalidated, or (JWT) is forged or expired ("invalid auth token").
    /// </exception>
    public AuthInfo ResolveToken(string? token)
    {
        var data = AuthState;
        if (!data.Enabled || token is null)
            return AuthInfo.None;
        return AuthTokens.TryResolve(token, data.Revision, out var who)
            ? who
            : throw new EtcdException(EtcdErrors.InvalidAuthToken);
    }

    /// <summary>
    /// <see cref="ResolveToken"/>, once this member has applied the token's login (<see cref="IAuthTokens.KnownFrom"/>):
    /// a client may present a token that another member gave it a moment ago, which this one learns of, with the
    /// enabling of authentication before it, when it catches up (etcd's token provider waits the same way). Waits up to
    /// the request timeout; a login that has not applied here by then makes the token "invalid auth token", unless
    /// authentication is still disabled here, when the call is no one's, as without a token. (etcd waits for as long
    /// as the call's deadline; a token naming an index no login has holds a call here for the request timeout.)
    /// </summary>
    /// <exception cref="EtcdException">As <see cref="ResolveToken"/>; or the call was cancelled, or the member stopped.</exception>
    public ValueTask<AuthInfo> ResolveTokenAsync(string? token, CancellationToken cancellation)
    {
        var index = token is null ? 0 : AuthTokens.KnownFrom(token);
        return index <= Volatile.Read(ref _appliedPublished)
            ? ValueTask.FromResult(ResolveToken(token))
            : WaitThenResolveAsync(token!, index, cancellation);
    }

    private async ValueTask<AuthInfo> WaitThenResolveAsync(string token, ulong index, CancellationToken cancellation)
    {
        var applied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() => _appliedWaiters.Add(index, applied, _state.AppliedIndex));
        // A loop that has stopped would never run the registration (see ProposeAsync).
        if (Volatile.Read(ref _closed))
            throw new EtcdException(EtcdErrors.ServerStopped);
        try
        {
            await applied.Task.WaitAsync(RequestTimeout, cancellation).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            Post(() => _appliedWaiters.Forget(applied));
            throw new EtcdException(EtcdErrors.Cancelled);
        }
        catch (TimeoutException)
        {
            // Resolved as it stands: no one's with authentication still disabled here, else "invalid auth token"
            // (which makes etcd's clients log in again) unless the login applied at the last moment.
            Post(() => _appliedWaiters.Forget(applied));
        }
        return ResolveToken(token);
    }

    /// <summary>
    /// etcd's Authenticate: the password is checked here against the user's hash (off the loop: bcrypt is slow on
    /// purpose), then a login with a new token is proposed; applying it records the token on every member. A JWT is
    /// signed here once the login has applied, with the auth revision it applied at.
    /// </summary>
    /// <exception cref="EtcdException">
    /// Authentication is disabled, the user or password is wrong, or this member has a JWT public key only.
    /// </exception>
    public async Task<AuthenticateResponse> AuthenticateAsync(string name, string password, CancellationToken cancellation)
    {
        var data = AuthState;
        if (!data.Enabled)
            throw new EtcdException(EtcdErrors.AuthNotEnabled);
        var user = data.UserNamed(name);
        if (user is null || user.Options?.NoPassword == true)
            throw new EtcdException(EtcdErrors.AuthFailed);
        var hash = user.Password.ToStringUtf8();
        if (!await Task.Run(() => PasswordHashing.Verify(password, hash), cancellation).ConfigureAwait(false))
            throw new EtcdException(EtcdErrors.AuthFailed);
        var login = new AuthChange { Login = new AuthLogin { Name = name, Token = AuthTokens.NewToken() } };
        var applied = await ProposeAsync<AppliedLogin>(new InternalRequest { Auth = login }, cancellation).ConfigureAwait(false);
        return new AuthenticateResponse { Token = AuthTokens.Issue(applied) };
    }

    /// <summary>Proposes an auth change (passwords already hashed) made as <paramref name="who"/>; returns etcd's response.</summary>
    public Task<T> ProposeAuthAsync<T>(AuthChange change, AuthInfo who, CancellationToken cancellation)
        where T : class =>
        ProposeAsync<T>(new InternalRequest { Auth = change, Requester = Requester(who) }, cancellation);

    /// <summary>The requester a client's proposal carries, checked when it is applied.</summary>
    /// <remarks>A call without a user (the usual case, auth off) shares one instance, which nothing changes: no allocation per write.</remarks>
    public static AuthRequester Requester(AuthInfo who) =>
        who.Revision == 0 && string.IsNullOrEmpty(who.User) ? NoUser : new() { User = who.User ?? "", Revision = who.Revision };

    private static readonly AuthRequester NoUser = new();
}
