using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Auth;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Tests.Auth;

/// <summary>
/// The auth state as replicated state: changed by applied entries (checked when applied), carried whole by a snapshot,
/// and absent from a snapshot written before auth existed (auth off, revision 1).
/// </summary>
public sealed class AuthStateSnapshotTests
{
    private static object Apply(StateMachine state, AuthChange change, string user = "root", ulong revision = 0) =>
        state.ApplyRequest(new InternalRequest
        {
            Auth = change,
            Requester = new AuthRequester { User = user, Revision = revision == 0 ? state.Auth.Current.Revision : revision },
        }.ToByteArray()).Result;

    private static StateMachine WithRootAndReader()
    {
        var state = new StateMachine();
        Apply(state, new AuthChange { UserAdd = new AuthUserAddRequest { Name = "root", HashedPassword = PasswordHashing.Hash("pw", 4) } });
        Apply(state, new AuthChange { UserGrantRole = new AuthUserGrantRoleRequest { User = "root", Role = "root" } });
        Apply(state, new AuthChange { RoleAdd = new AuthRoleAddRequest { Name = "reader" } });
        Apply(state, new AuthChange { RoleGrantPermission = new AuthRoleGrantPermissionRequest { Name = "reader", Perm = new Permission { Key = ByteString.CopyFromUtf8("a") } } });
        Apply(state, new AuthChange { UserAdd = new AuthUserAddRequest { Name = "alice", HashedPassword = PasswordHashing.Hash("alicepw", 4) } });
        Apply(state, new AuthChange { UserGrantRole = new AuthUserGrantRoleRequest { User = "alice", Role = "reader" } });
        Apply(state, new AuthChange { Enable = new AuthEnableRequest() });
        return state;
    }

    [Fact]
    public void Each_change_moves_the_auth_revision_and_writes_are_checked_when_applied()
    {
        var state = WithRootAndReader();
        // 1, then one for each of the six changes; enabling does not move it, as in etcd 3.4.
        Assert.Equal(7UL, state.Auth.Current.Revision);
        Assert.True(state.Auth.Current.Enabled);
        // Enabling again changes nothing.
        Apply(state, new AuthChange { Enable = new AuthEnableRequest() });
        Assert.Equal(7UL, state.Auth.Current.Revision);

        var put = new InternalRequest { Put = new PutRequest { Key = ByteString.CopyFromUtf8("a"), Value = ByteString.CopyFromUtf8("v") }, Requester = new AuthRequester { User = "alice", Revision = 7 } };
        Assert.Equal(EtcdErrors.PermissionDenied, Assert.IsType<EtcdException>(state.ApplyRequest(put.ToByteArray()).Result).Error);
        put.Requester = new AuthRequester { User = "root", Revision = 6 };
        Assert.Equal(EtcdErrors.AuthOldRevision, Assert.IsType<EtcdException>(state.ApplyRequest(put.ToByteArray()).Result).Error);
        put.Requester = new AuthRequester { User = "root", Revision = 7 };
        Assert.IsType<PutResponse>(state.ApplyRequest(put.ToByteArray()).Result);
        // What a member proposes on its own (no requester) is not checked.
        put.Requester = null;
        Assert.IsType<PutResponse>(state.ApplyRequest(put.ToByteArray()).Result);
        Assert.Equal(EtcdErrors.PermissionDenied,
            Assert.IsType<EtcdException>(Apply(state, new AuthChange { RoleAdd = new AuthRoleAddRequest { Name = "x" } }, user: "alice")).Error);
    }

    [Fact]
    public void A_snapshot_carries_users_roles_and_the_auth_revision()
    {
        var state = WithRootAndReader();
        using var bytes = new MemoryStream();
        state.Capture(7)(bytes);
        var restored = new StateMachine();
        bytes.Position = 0;
        restored.Restore(bytes, new AppliedPosition(0, 0), "test");
        var (before, after) = (state.Auth.Current, restored.Auth.Current);
        Assert.Equal((before.Enabled, before.Revision), (after.Enabled, after.Revision));
        Assert.Equal(before.Users.Keys, after.Users.Keys);
        Assert.Equal(before.Users["alice"], after.Users["alice"]);
        Assert.Equal(before.Roles["reader"], after.Roles["reader"]);
        Assert.True(PasswordHashing.Verify("alicepw", after.Users["alice"].Password.ToStringUtf8()));
    }

    [Fact]
    public void A_snapshot_from_before_auth_restores_auth_off_at_revision_one()
    {
        var state = WithRootAndReader();
        using var bytes = new MemoryStream();
        NodeSnapshotFormat.Write(bytes, FrozenStore.Of(new MvccStore()), [], 7, default);
        bytes.Position = 0;
        state.Restore(bytes, default, "test");
        Assert.Equal(AuthData.Initial, state.Auth.Current);
    }
}
