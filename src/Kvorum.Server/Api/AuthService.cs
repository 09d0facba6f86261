using Grpc.Core;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Auth;
using Kvorum.Server.Node;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Api;

/// <summary>
/// etcd's Auth service: every change and every read of users and roles goes through Raft as an
/// <see cref="AuthChange"/>, made as the caller's user and checked when it is applied (<see cref="AuthStore"/>), as
/// etcd does; passwords are hashed here first, so none reaches the log. Authenticate checks the password here and
/// proposes only the login with its new token.
/// </summary>
internal sealed class AuthService(KvorumNode node, ServerOptions options) : Kvorum.Etcd.Api.Auth.AuthBase
{
    public override Task<AuthEnableResponse> AuthEnable(AuthEnableRequest request, ServerCallContext context) =>
        Propose<AuthEnableResponse>(new AuthChange { Enable = request }, context);

    public override Task<AuthDisableResponse> AuthDisable(AuthDisableRequest request, ServerCallContext context) =>
        Propose<AuthDisableResponse>(new AuthChange { Disable = request }, context);

    /// <summary>Answered from this member's state: whether authentication is on, and the auth revision.</summary>
    public override Task<AuthStatusResponse> AuthStatus(AuthStatusRequest request, ServerCallContext context)
    {
        var data = node.AuthState;
        return Task.FromResult(new AuthStatusResponse { Header = ResponseHeaders.Fill(null, node), Enabled = data.Enabled, AuthRevision = data.Revision });
    }

    public override Task<AuthenticateResponse> Authenticate(AuthenticateRequest request, ServerCallContext context) =>
        Answer(() => node.AuthenticateAsync(request.Name, request.Password, context.CancellationToken));

    public override Task<AuthUserAddResponse> UserAdd(AuthUserAddRequest request, ServerCallContext context) =>
        Answer(async () =>
        {
            var add = request.Clone();
            if (add.Options?.NoPassword != true && add.HashedPassword.Length == 0)
                add.HashedPassword = await HashAsync(add.Password).ConfigureAwait(false);
            add.Password = "";
            return await node.ProposeAuthAsync<AuthUserAddResponse>(new AuthChange { UserAdd = add }, CallAuth.Of(context), context.CancellationToken).ConfigureAwait(false);
        });

    public override Task<AuthUserGetResponse> UserGet(AuthUserGetRequest request, ServerCallContext context) =>
        Propose<AuthUserGetResponse>(new AuthChange { UserGet = request }, context);

    public override Task<AuthUserListResponse> UserList(AuthUserListRequest request, ServerCallContext context) =>
        Propose<AuthUserListResponse>(new AuthChange { UserList = request }, context);

    public override Task<AuthUserDeleteResponse> UserDelete(AuthUserDeleteRequest request, ServerCallContext context) =>
        Propose<AuthUserDeleteResponse>(new AuthChange { UserDelete = request }, context);

    public override Task<AuthUserChangePasswordResponse> UserChangePassword(AuthUserChangePasswordRequest request, ServerCallContext context) =>
        Answer(async () =>
        {
            var change = request.Clone();
            if (change.HashedPassword.Length == 0)
                change.HashedPassword = await HashAsync(change.Password).ConfigureAwait(false);
            change.Password = "";
            return await node.ProposeAuthAsync<AuthUserChangePasswordResponse>(new AuthChange { UserChangePassword = change }, CallAuth.Of(context), context.CancellationToken).ConfigureAwait(false);
        });

    /// <summary>Hashes on the thread pool: bcrypt is slow on purpose, and a request thread should not wait on it.</summary>
    private Task<string> HashAsync(string password) => Task.Run(() => PasswordHashing.Hash(password, options.BcryptCost));

    public override Task<AuthUserGrantRoleResponse> UserGrantRole(AuthUserGrantRoleRequest request, ServerCallContext context) =>
        Propose<AuthUserGrantRoleResponse>(new AuthChange { UserGrantRole = request }, context);

    public override Task<AuthUserRevokeRoleResponse> UserRevokeRole(AuthUserRevokeRoleRequest request, ServerCallContext context) =>
        Propose<AuthUserRevokeRoleResponse>(new AuthChange { UserRevokeRole = request }, context);

    public override Task<AuthRoleAddResponse> RoleAdd(AuthRoleAddRequest request, ServerCallContext context) =>
        Propose<AuthRoleAddResponse>(new AuthChange { RoleAdd = request }, context);

    public override Task<AuthRoleGetResponse> RoleGet(AuthRoleGetRequest request, ServerCallContext context) =>
        Propose<AuthRoleGetResponse>(new AuthChange { RoleGet = request }, context);

    public override Task<AuthRoleListResponse> RoleList(AuthRoleListRequest request, ServerCallContext context) =>
        Propose<AuthRoleListResponse>(new AuthChange { RoleList = request }, context);

    public override Task<AuthRoleDeleteResponse> RoleDelete(AuthRoleDeleteRequest request, ServerCallContext context) =>
        Propose<AuthRoleDeleteResponse>(new AuthChange { RoleDelete = request }, context);

    public override Task<AuthRoleGrantPermissionResponse> RoleGrantPermission(AuthRoleGrantPermissionRequest request, ServerCallContext context) =>
        Propose<AuthRoleGrantPermissionResponse>(new AuthChange { RoleGrantPermission = request }, context);

    public override Task<AuthRoleRevokePermissionResponse> RoleRevokePermission(AuthRoleRevokePermissionRequest request, ServerCallContext context) =>
        Propose<AuthRoleRevokePermissionResponse>(new AuthChange { RoleRevokePermission = request }, context);

    private Task<T> Propose<T>(AuthChange change, ServerCallContext context)
        where T : class, IHasResponseHeader =>
        Answer(() => node.ProposeAuthAsync<T>(change, CallAuth.Of(context), context.CancellationToken));

    /// <summary>Runs <paramref name="handler"/>, fills etcd's header, and maps errors to etcd's statuses.</summary>
    private Task<T> Answer<T>(Func<Task<T>> handler)
        where T : IHasResponseHeader =>
        EtcdCall.Run(async () =>
        {
            var response = await handler().ConfigureAwait(false);
            response.Header = ResponseHeaders.Fill(response.Header, node);
            return response;
        });
}
