namespace Kvorum.Etcd.Api;

// The Auth service's responses all carry etcd's header; naming that lets the server's AuthService fill it in one place.
/// <summary>etcd's AuthEnableResponse, with its header named by <see cref="IHasResponseHeader"/>.</summary>
public sealed partial class AuthEnableResponse : IHasResponseHeader;

/// <summary>etcd's AuthDisableResponse, with its header named by <see cref="IHasResponseHeader"/>.</summary>
public sealed partial class AuthDisableResponse : IHasResponseHeader;

/// <summary>etcd's AuthStatusResponse, with its header named by <see cref="IHasResponseHeader"/>.</summary>
public sealed partial class AuthStatusResponse : IHasResponseHeader;

/// <summary>etcd's AuthenticateResponse, with its header named by <see cref="IHasResponseHeader"/>.</summary>
public sealed partial class AuthenticateResponse : IHasResponseHeader;

/// <summary>etcd's AuthUserAddResponse, with its header named by <see cref="IHasResponseHeader"/>.</summary>
public sealed partial class AuthUserAddResponse : IHasResponseHeader;

/// <summary>etcd's AuthUserGetResponse, with its header named by <see cref="IHasResponseHeader"/>.</summary>
public sealed partial class AuthUserGetResponse : IHasResponseHeader;

/// <summary>etcd's AuthUserListResponse, with its header named by <see cref="IHasResponseHeader"/>.</summary>
public sealed partial class AuthUserListResponse : IHasResponseHeader;

/// <summary>etcd's AuthUserDeleteResponse, with its header named by <see cref="IHasResponseHeader"/>.</summary>
public sealed partial class AuthUserDeleteResponse : IHasResponseHeader;

/// <summary>etcd's AuthUserChangePasswordResponse, with its header named by <see cref="IHasResponseHeader"/>.</summary>
public sealed partial class AuthUserChangePasswordResponse : IHasResponseHeader;

/// <summary>etcd's AuthUserGrantRoleResponse, with its header named by <see cref="IHasResponseHeader"/>.</summary>
public sealed partial class AuthUserGrantRoleResponse : IHasResponseHeader;

/// <summary>etcd's AuthUserRevokeRoleResponse, with its header named by <see cref="IHasResponseHeader"/>.</summary>
public sealed partial class AuthUserRevokeRoleResponse : IHasResponseHeader;

/// <summary>etcd's AuthRoleAddResponse, with its header named by <see cref="IHasResponseHeader"/>.</summary>
public sealed partial class AuthRoleAddResponse : IHasResponseHeader;

/// <summary>etcd's AuthRoleGetResponse, with its header named by <see cref="IHasResponseHeader"/>.</summary>
public sealed partial class AuthRoleGetResponse : IHasResponseHeader;

/// <summary>etcd's AuthRoleListResponse, with its header named by <see cref="IHasResponseHeader"/>.</summary>
public sealed partial class AuthRoleListResponse : IHasResponseHeader;

/// <summary>etcd's AuthRoleDeleteResponse, with its header named by <see cref="IHasResponseHeader"/>.</summary>
public sealed partial class AuthRoleDeleteResponse : IHasResponseHeader;

/// <summary>etcd's AuthRoleGrantPermissionResponse, with its header named by <see cref="IHasResponseHeader"/>.</summary>
public sealed partial class AuthRoleGrantPermissionResponse : IHasResponseHeader;

/// <summary>etcd's AuthRoleRevokePermissionResponse, with its header named by <see cref="IHasResponseHeader"/>.</summary>
public sealed partial class AuthRoleRevokePermissionResponse : IHasResponseHeader;
