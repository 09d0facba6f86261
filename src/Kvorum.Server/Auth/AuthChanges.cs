using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Auth;

/// <summary>
/// Each auth change as a function of the state: the state after it (null when it changes nothing: a read, or a change
/// already made, as enabling twice) and etcd's response, or the <see cref="EtcdException"/> etcd refuses it with.
/// Deterministic, so every member applying the same log reaches the same state; passwords arrive hashed.
/// </summary>
internal static class AuthChanges
{
    /// <summary>Applies <paramref name="change"/> (not a login) to <paramref name="data"/>.</summary>
    public static (AuthData? Next, object Response) Apply(AuthData data, AuthChange change) => change.ChangeCase switch
    {
        AuthChange.ChangeOneofCase.Enable => Enable(data),
        AuthChange.ChangeOneofCase.Disable => data.Enabled ? (data with { Enabled = false }, new AuthDisableResponse()) : (null, new AuthDisableResponse()),
        AuthChange.ChangeOneofCase.UserAdd => UserAdd(data, change.UserAdd),
        AuthChange.ChangeOneofCase.UserDelete => UserDelete(data, change.UserDelete.Name),
        AuthChange.ChangeOneofCase.UserChangePassword => ChangePassword(data, change.UserChangePassword),
        AuthChange.ChangeOneofCase.UserGrantRole => GrantRole(data, change.UserGrantRole),
        AuthChange.ChangeOneofCase.UserRevokeRole => RevokeRole(data, change.UserRevokeRole),
        AuthChange.ChangeOneofCase.UserGet => (null, UserGet(data, change.UserGet.Name)),
        AuthChange.ChangeOneofCase.UserList => (null, new AuthUserListResponse { Users = { data.Users.Keys } }),
        AuthChange.ChangeOneofCase.RoleAdd => RoleAdd(data, change.RoleAdd.Name),
        AuthChange.ChangeOneofCase.RoleDelete => RoleDelete(data, change.RoleDelete.Role),
        AuthChange.ChangeOneofCase.RoleGrantPermission => GrantPermission(data, change.RoleGrantPermission),
        AuthChange.ChangeOneofCase.RoleRevokePermission => RevokePermission(data, change.RoleRevokePermission),
        AuthChange.ChangeOneofCase.RoleGet => (null, RoleGet(data, change.RoleGet.Role)),
        AuthChange.ChangeOneofCase.RoleList => (null, new AuthRoleListResponse { Roles = { data.Roles.Keys } }),
        _ => throw new EtcdException(EtcdErrors.UnknownRequest),
    };

    private static (AuthData?, object) Enable(AuthData data)
    {
        if (data.Enabled)
            return (null, new AuthEnableResponse());
        var root = data.UserNamed(AuthData.Root) ?? throw new EtcdException(EtcdErrors.RootUserNotExist);
        if (!AuthData.HasRootRole(root))
            throw new EtcdException(EtcdErrors.RootRoleNotExist);
        return (data with { Enabled = true }, new AuthEnableResponse());
    }

    private static (AuthData?, object) UserAdd(AuthData data, AuthUserAddRequest add)
    {
        if (add.Name.Length == 0)
            throw new EtcdException(EtcdErrors.UserEmpty);
        if (data.Users.ContainsKey(add.Name))
            throw new EtcdException(EtcdErrors.UserAlreadyExist);
        var user = new User
        {
            Name = AuthData.Name(add.Name),
            Password = ByteString.CopyFromUtf8(add.HashedPassword),
            Options = add.Options?.Clone() ?? new UserAddOptions(),
        };
        return (data with { Users = data.Users.Add(add.Name, user) }, new AuthUserAddResponse());
    }

    private static (AuthData?, object) UserDelete(AuthData data, string name)
    {
        if (data.Enabled && name == AuthData.Root)
            throw new EtcdException(EtcdErrors.InvalidAuthManagement);
        if (!data.Users.ContainsKey(name))
            throw new EtcdException(EtcdErrors.UserNotFound);
        return (data with { Users = data.Users.Remove(name) }, new AuthUserDeleteResponse());
    }

    private static (AuthData?, object) ChangePassword(AuthData data, AuthUserChangePasswordRequest change)
    {
        var user = data.UserNamed(change.Name)?.Clone() ?? throw new EtcdException(EtcdErrors.UserNotFound);
        user.Password = ByteString.CopyFromUtf8(change.HashedPassword);
        return (data with { Users = data.Users.SetItem(change.Name, user) }, new AuthUserChangePasswordResponse());
    }

    private static (AuthData?, object) GrantRole(AuthData data, AuthUserGrantRoleRequest grant)
    {
        var user = data.UserNamed(grant.User)?.Clone() ?? throw new EtcdException(EtcdErrors.UserNotFound);
        if (grant.Role != AuthData.Root && !data.Roles.ContainsKey(grant.Role))
            throw new EtcdException(EtcdErrors.RoleNotFound);
        if (user.Roles.Contains(grant.Role))
            return (null, new AuthUserGrantRoleResponse());
        var roles = user.Roles.Append(grant.Role).Order(StringComparer.Ordinal).ToArray();
        user.Roles.Clear();
        user.Roles.AddRange(roles);
        return (data with { Users = data.Users.SetItem(grant.User, user) }, new AuthUserGrantRoleResponse());
    }

    private static (AuthData?, object) RevokeRole(AuthData data, AuthUserRevokeRoleRequest revoke)
    {
        if (data.Enabled && revoke.Name == AuthData.Root && revoke.Role == AuthData.Root)
            throw new EtcdException(EtcdErrors.InvalidAuthManagement);
        var user = data.UserNamed(revoke.Name)?.Clone() ?? throw new EtcdException(EtcdErrors.UserNotFound);
        if (!user.Roles.Remove(revoke.Role))
            throw new EtcdException(EtcdErrors.RoleNotGranted);
        return (data with { Users = data.Users.SetItem(revoke.Name, user) }, new AuthUserRevokeRoleResponse());
    }

    private static AuthUserGetResponse UserGet(AuthData data, string name)
    {
        var user = data.UserNamed(name) ?? throw new EtcdException(EtcdErrors.UserNotFound);
        return new AuthUserGetResponse { Roles = { user.Roles } };
    }

    private static (AuthData?, object) RoleAdd(AuthData data, string name)
    {
        if (name.Length == 0)
            throw new EtcdException(EtcdErrors.RoleEmpty);
        if (data.Roles.ContainsKey(name))
            throw new EtcdException(EtcdErrors.RoleAlreadyExist);
        return (data with { Roles = data.Roles.Add(name, new Role { Name = AuthData.Name(name) }) }, new AuthRoleAddResponse());
    }

    private static (AuthData?, object) RoleDelete(AuthData data, string name)
    {
        if (data.Enabled && name == AuthData.Root)
            throw new EtcdException(EtcdErrors.InvalidAuthManagement);
        if (!data.Roles.ContainsKey(name))
            throw new EtcdException(EtcdErrors.RoleNotFound);
        // The role leaves every user that has it.
        var users = data.Users;
        foreach (var (userName, user) in data.Users)
        {
            if (!user.Roles.Contains(name))
                continue;
            var updated = user.Clone();
            updated.Roles.Remove(name);
            users = users.SetItem(userName, updated);
        }
        return (data with { Roles = data.Roles.Remove(name), Users = users }, new AuthRoleDeleteResponse());
    }

    private static (AuthData?, object) GrantPermission(AuthData data, AuthRoleGrantPermissionRequest grant)
    {
        var role = data.RoleNamed(grant.Name)?.Clone() ?? throw new EtcdException(EtcdErrors.RoleNotFound);
        var perm = grant.Perm ?? new Permission();
        var perms = role.KeyPermission;
        // Kept in key order, as etcd keeps them: the first permission on the same key, if it has the same range end,
        // takes the new type; otherwise the new one goes after every permission on the same key.
        var at = 0;
        while (at < perms.Count && perms[at].Key.Span.SequenceCompareTo(perm.Key.Span) < 0)
            at++;
        if (at < perms.Count && perms[at].Key.Equals(perm.Key) && perms[at].RangeEnd.Equals(perm.RangeEnd))
        {
            perms[at].PermType = perm.PermType;
        }
        else
        {
            while (at < perms.Count && perms[at].Key.Equals(perm.Key))
                at++;
            perms.Insert(at, perm.Clone());
        }
        return (data with { Roles = data.Roles.SetItem(grant.Name, role) }, new AuthRoleGrantPermissionResponse());
    }

    private static (AuthData?, object) RevokePermission(AuthData data, AuthRoleRevokePermissionRequest revoke)
    {
        var role = data.RoleNamed(revoke.Role)?.Clone() ?? throw new EtcdException(EtcdErrors.RoleNotFound);
        var kept = role.KeyPermission.Where(p => !(p.Key.Equals(revoke.Key) && p.RangeEnd.Equals(revoke.RangeEnd))).ToArray();
        if (kept.Length == role.KeyPermission.Count)
            throw new EtcdException(EtcdErrors.PermissionNotGranted);
        role.KeyPermission.Clear();
        role.KeyPermission.AddRange(kept);
        return (data with { Roles = data.Roles.SetItem(revoke.Role, role) }, new AuthRoleRevokePermissionResponse());
    }

    private static AuthRoleGetResponse RoleGet(AuthData data, string name)
    {
        var role = data.RoleNamed(name) ?? throw new EtcdException(EtcdErrors.RoleNotFound);
        return new AuthRoleGetResponse { Perm = { role.KeyPermission.Select(p => p.Clone()) } };
    }
}
