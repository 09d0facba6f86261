using Google.Protobuf;
using Kvorum.Etcd.Api;

namespace Kvorum.Server.Tests.Auth;

/// <summary>
/// A seeded random mix of user, role and permission changes (made by root, and now and then by another user or
/// without a token), auth enabling and disabling, and KV requests on a small key space made as random users, so that
/// permissions allow some and refuse others. It keeps each user's current password (as the last successful change set
/// it) so that the runner can log in as anyone; what the servers answer is what is compared, not this model.
/// </summary>
internal sealed class AuthStepGenerator(int seed)
{
    private static readonly string[] UserNames = ["root", "alice", "bob", "carol"];
    private static readonly string[] RoleNames = ["root", "reader", "writer", "mixed", "nope"];
    private static readonly string[] Keys = ["a", "b", "c", "d", "e", "f"];

    private readonly Random _random = new(seed);
    private readonly Dictionary<string, string> _passwords = [];
    private readonly Queue<AuthStep> _start = new(
    [
        new(new AuthUserAddRequest { Name = "root", Password = "rootpw" }, "root"),
        new(new AuthRoleAddRequest { Name = "root" }, "root"),
        new(new AuthUserGrantRoleRequest { User = "root", Role = "root" }, "root"),
        new(new AuthRoleAddRequest { Name = "reader" }, "root"),
        new(new AuthUserAddRequest { Name = "alice", Password = "alicepw" }, "root"),
        new(new AuthEnableRequest(), "root"),
    ]);

    /// <summary>The password <paramref name="user"/> has if the last change of it succeeded.</summary>
    public string PasswordOf(string user) => _passwords.GetValueOrDefault(user, "none");

    /// <summary>Tells the model that <paramref name="step"/> succeeded, so a password it set is now the user's.</summary>
    public void Succeeded(AuthStep step)
    {
        switch (step.Request)
        {
            case AuthUserAddRequest add:
                _passwords[add.Name] = add.Password;
                break;
            case AuthUserChangePasswordRequest change:
                _passwords[change.Name] = change.Password;
                break;
            case AuthUserDeleteRequest delete:
                _passwords.Remove(delete.Name);
                break;
            default:
                break;
        }
    }

    public AuthStep Next()
    {
        if (_start.Count > 0)
            return _start.Dequeue();
        var roll = _random.Next(100);
        return roll < 40 ? new AuthStep(AuthRequest(), Maker()) : new AuthStep(KvRequest(), KvUser());
    }

    /// <summary>Who makes an auth request: root mostly.</summary>
    private string? Maker() => _random.Next(10) switch
    {
        < 7 => "root",
        7 => null,
        _ => Pick(UserNames),
    };

    private string? KvUser() => _random.Next(12) == 0 ? null : Pick(UserNames);

    private IMessage AuthRequest() => _random.Next(20) switch
    {
        0 or 1 => new AuthUserAddRequest { Name = Pick(UserNames), Password = Password() },
        2 => new AuthUserDeleteRequest { Name = Pick(UserNames) },
        3 => new AuthUserChangePasswordRequest { Name = Pick(UserNames), Password = Password() },
        4 or 5 or 6 => new AuthUserGrantRoleRequest { User = Pick(UserNames), Role = Pick(RoleNames) },
        7 => new AuthUserRevokeRoleRequest { Name = Pick(UserNames), Role = Pick(RoleNames) },
        8 or 9 => new AuthRoleAddRequest { Name = Pick(RoleNames) },
        10 => new AuthRoleDeleteRequest { Role = Pick(RoleNames) },
        11 or 12 or 13 or 14 => Grant(),
        15 => Revoke(),
        16 => new AuthUserGetRequest { Name = Pick(UserNames) },
        // Not AuthStatus: etcd 3.4 does not serve it (Kvorum does, as etcd 3.5).
        17 => _random.Next(2) == 0 ? new AuthUserListRequest() : new AuthRoleListRequest(),
        18 => new AuthRoleGetRequest { Role = Pick(RoleNames) },
        _ => _random.Next(3) == 0 ? new AuthDisableRequest() : new AuthEnableRequest(),
    };

    private string Password() => "pw" + _random.Next(1000);

    private AuthRoleGrantPermissionRequest Grant()
    {
        var (key, end) = Range();
        return new AuthRoleGrantPermissionRequest
        {
            Name = Pick(RoleNames),
            Perm = new Permission { PermType = (Permission.Types.Type)_random.Next(3), Key = key, RangeEnd = end },
        };
    }

    private AuthRoleRevokePermissionRequest Revoke()
    {
        var (key, end) = Range();
        return new AuthRoleRevokePermissionRequest { Role = Pick(RoleNames), Key = key, RangeEnd = end };
    }

    /// <summary>A key alone, a range of keys, a prefix's range, or everything from a key on.</summary>
    private (ByteString Key, ByteString End) Range()
    {
        var a = _random.Next(Keys.Length);
        var key = ByteString.CopyFromUtf8(Keys[a]);
        return _random.Next(4) switch
        {
            0 => (key, ByteString.Empty),
            1 => (key, ByteString.CopyFromUtf8(Keys[Math.Min(Keys.Length - 1, a + 1 + _random.Next(3))] + (_random.Next(2) == 0 ? "" : "z"))),
            2 => (key, ByteString.CopyFromUtf8(((char)(Keys[a][0] + 1)).ToString())),
            _ => (key, ByteString.CopyFrom(0)),
        };
    }

    private IMessage KvRequest()
    {
        var (key, end) = Range();
        return _random.Next(6) switch
        {
            0 or 1 => new PutRequest { Key = key, Value = ByteString.CopyFromUtf8("v" + _random.Next(100)), PrevKv = _random.Next(4) == 0 },
            2 or 3 => new RangeRequest { Key = key, RangeEnd = end, Serializable = _random.Next(2) == 0 },
            4 => new DeleteRangeRequest { Key = key, RangeEnd = end, PrevKv = _random.Next(3) == 0 },
            _ => Txn(),
        };
    }

    private TxnRequest Txn()
    {
        var (key, end) = Range();
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = key, RangeEnd = end, Target = Compare.Types.CompareTarget.Version, Result = Compare.Types.CompareResult.Greater, Version = 0 });
        var put = new PutRequest { Key = ByteString.CopyFromUtf8(Pick(Keys)), Value = ByteString.CopyFromUtf8("t") };
        var get = new RangeRequest { Key = ByteString.CopyFromUtf8(Pick(Keys)) };
        txn.Success.Add(_random.Next(2) == 0 ? new RequestOp { RequestPut = put } : new RequestOp { RequestRange = get });
        txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = ByteString.CopyFromUtf8(Pick(Keys)) } });
        return txn;
    }

    private T Pick<T>(T[] items) => items[_random.Next(items.Length)];
}
