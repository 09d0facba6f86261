using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Server.Auth;

namespace Kvorum.Server.Tests.Auth;

/// <summary>Which keys and ranges a user's permissions allow (<see cref="KeyPermissions"/>), as etcd decides it.</summary>
public sealed class KeyPermissionsTests
{
    private static readonly ByteString None = ByteString.Empty;

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static Permission Perm(Permission.Types.Type type, string key, string? end = null) =>
        new() { PermType = type, Key = B(key), RangeEnd = end is null ? None : end == "\0" ? ByteString.CopyFrom(0) : B(end) };

    private static KeyPermissions Reads(params Permission[] perms)
    {
        var role = new Role { Name = B("r") };
        role.KeyPermission.AddRange(perms);
        return KeyPermissions.Of([role], write: false);
    }

    [Fact]
    public void A_permission_on_one_key_allows_that_key_alone()
    {
        var p = Reads(Perm(Permission.Types.Type.Read, "k"));
        Assert.True(p.Allows(B("k"), None));
        Assert.False(p.Allows(B("k2"), None));
        Assert.False(p.Allows(B("k"), B("l")));
    }

    [Fact]
    public void A_range_is_allowed_only_when_the_permissions_cover_it_without_a_gap()
    {
        var joined = Reads(Perm(Permission.Types.Type.Read, "a", "c"), Perm(Permission.Types.Type.Readwrite, "c", "e"));
        Assert.True(joined.Allows(B("b"), B("d")));
        Assert.True(joined.Allows(B("a"), B("e")));
        Assert.False(joined.Allows(B("a"), B("f")));
        var gap = Reads(Perm(Permission.Types.Type.Read, "a", "c"), Perm(Permission.Types.Type.Read, "d", "e"));
        Assert.False(gap.Allows(B("a"), B("e")));
        Assert.True(gap.Allows(B("d"), None));
        Assert.False(gap.Allows(B("c"), None));
    }

    [Fact]
    public void Everything_from_a_key_on_covers_ranges_to_the_end_of_the_key_space()
    {
        var open = Reads(Perm(Permission.Types.Type.Read, "m", "\0"));
        Assert.True(open.Allows(B("m"), ByteString.CopyFrom(0)));
        Assert.True(open.Allows(B("x"), B("z")));
        Assert.False(open.Allows(B("l"), ByteString.CopyFrom(0)));
    }

    [Fact]
    public void Write_permissions_do_not_allow_reading_and_readwrite_allows_both()
    {
        var role = new Role { Name = B("r") };
        role.KeyPermission.Add(Perm(Permission.Types.Type.Write, "w"));
        role.KeyPermission.Add(Perm(Permission.Types.Type.Readwrite, "rw"));
        Assert.False(KeyPermissions.Of([role], write: false).Allows(B("w"), None));
        Assert.True(KeyPermissions.Of([role], write: true).Allows(B("w"), None));
        Assert.True(KeyPermissions.Of([role], write: false).Allows(B("rw"), None));
        Assert.True(KeyPermissions.Of([role], write: true).Allows(B("rw"), None));
    }
}
