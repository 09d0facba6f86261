using System.Collections.Immutable;
using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Auth;

/// <summary>
/// The replicated auth state at one point of the log: whether authentication is enabled, the auth revision (moved by
/// every change, as etcd's), and the users and roles by name. Immutable: the member loop replaces it on each change
/// (<see cref="AuthStore"/>), and any thread may read the value it holds, so the checks at the service edge need no lock.
/// </summary>
/// <param name="Enabled">Whether requests must be made as a user.</param>
/// <param name="Revision">The auth revision: 1 for a new store, moved by every change.</param>
/// <param name="Users">Users by name; their <see cref="User.Password"/> is a bcrypt hash, their roles sorted.</param>
/// <param name="Roles">Roles by name; their permissions sorted by key, then range end.</param>
internal sealed record AuthData(
    bool Enabled,
    ulong Revision,
    ImmutableSortedDictionary<string, User> Users,
    ImmutableSortedDictionary<string, Role> Roles)
{
    /// <summary>The user and role that may do anything, and that authentication needs before it can be enabled.</summary>
    public const string Root = "root";

    /// <summary>A new cluster's auth state: disabled, revision 1, no users or roles (etcd's first revision is 1).</summary>
    public static AuthData Initial { get; } = new(false, 1,
        ImmutableSortedDictionary.Create<string, User>(StringComparer.Ordinal),
        ImmutableSortedDictionary.Create<string, Role>(StringComparer.Ordinal));

    /// <summary>The user named <paramref name="name"/>, or null.</summary>
    public User? UserNamed(string name) => Users.GetValueOrDefault(name);

    /// <summary>The role named <paramref name="name"/>, or null.</summary>
    public Role? RoleNamed(string name) => Roles.GetValueOrDefault(name);

    /// <summary>True when <paramref name="user"/> has the root role, which allows everything.</summary>
    public static bool HasRootRole(User user) => user.Roles.Contains(Root);

    /// <summary>The state as snapshots and backups hold it.</summary>
    public AuthState ToProto()
    {
        var state = new AuthState { Enabled = Enabled, Revision = Revision };
        state.Users.AddRange(Users.Values.Select(u => u.Clone()));
        state.Roles.AddRange(Roles.Values.Select(r => r.Clone()));
        return state;
    }

    /// <summary>The state a snapshot holds; <see cref="Initial"/> for a snapshot written before auth existed.</summary>
    public static AuthData FromProto(AuthState? state) =>
        state is null
            ? Initial
            : new(state.Enabled, Math.Max(1, state.Revision),
                Initial.Users.AddRange(state.Users.Select(u => KeyValuePair.Create(u.Name.ToStringUtf8(), u))),
                Initial.Roles.AddRange(state.Roles.Select(r => KeyValuePair.Create(r.Name.ToStringUtf8(), r))));

    /// <summary>A user's name as the wire holds it.</summary>
    public static ByteString Name(string name) => ByteString.CopyFromUtf8(name);
}
