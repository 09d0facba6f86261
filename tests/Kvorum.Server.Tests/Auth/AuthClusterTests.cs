using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;
using static Kvorum.Server.Tests.Auth.AuthCluster;
using AuthApi = Kvorum.Etcd.Api.Auth;

namespace Kvorum.Server.Tests.Auth;

/// <summary>
/// Users and roles on a running 3-member cluster, for what the differential test against etcd does not reach: a token
/// got from one member is good on the others (the login goes through Raft), a watch on keys the user may not read is
/// refused, a lock runs with its caller's token, a lease's keys are listed only to who may read them, and the calls
/// only root may make are refused to others.
/// </summary>
public sealed class AuthClusterTests
{
    [Fact]
    public async Task Tokens_watches_locks_and_root_only_calls_are_checked_as_etcd_checks_them()
    {
        await using var cluster = await AuthCluster.StartAsync();
        using var m1 = GrpcChannel.ForAddress(cluster.ClientUrl("m1"));
        using var m2 = GrpcChannel.ForAddress(cluster.ClientUrl("m2"));
        var auth = new AuthApi.AuthClient(m1);
        await auth.UserAddAsync(new AuthUserAddRequest { Name = "root", Password = "rootpw" });
        await auth.UserGrantRoleAsync(new AuthUserGrantRoleRequest { User = "root", Role = "root" });
        await auth.RoleAddAsync(new AuthRoleAddRequest { Name = "reader" });
        await auth.RoleGrantPermissionAsync(new AuthRoleGrantPermissionRequest { Name = "reader", Perm = new Permission { Key = B("a") } });
        await auth.UserAddAsync(new AuthUserAddRequest { Name = "alice", Password = "alicepw" });
        await auth.UserGrantRoleAsync(new AuthUserGrantRoleRequest { User = "alice", Role = "reader" });
        await auth.AuthEnableAsync(new AuthEnableRequest());

        var root = (await auth.AuthenticateAsync(new AuthenticateRequest { Name = "root", Password = "rootpw" })).Token;
        var alice = (await auth.AuthenticateAsync(new AuthenticateRequest { Name = "alice", Password = "alicepw" })).Token;

        // Got from m1, good on m2 once m2 has applied the login (a linearizable read as root waits for that).
        await new KV.KVClient(m2).RangeAsync(new RangeRequest { Key = B("a") }, As(root));
        await new KV.KVClient(m2).RangeAsync(new RangeRequest { Key = B("a") }, As(alice));
        var denied = await Assert.ThrowsAsync<RpcException>(async () => await new KV.KVClient(m2).RangeAsync(new RangeRequest { Key = B("b") }, As(alice)));
        Assert.Equal((StatusCode.PermissionDenied, "etcdserver: permission denied"), (denied.StatusCode, denied.Status.Detail));
        var invalid = await Assert.ThrowsAsync<RpcException>(async () => await new KV.KVClient(m2).RangeAsync(new RangeRequest { Key = B("a") }, As(alice + "x")));
        Assert.Equal((StatusCode.Unauthenticated, "etcdserver: invalid auth token"), (invalid.StatusCode, invalid.Status.Detail));

        // A watch on a key alice may not read is refused; one on a key she may read is created.
        using (var watch = new Kvorum.Etcd.Api.Watch.WatchClient(m2).Watch(As(alice)))
        {
            await watch.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("b") } });
            Assert.True(await watch.ResponseStream.MoveNext());
            var refused = watch.ResponseStream.Current;
            Assert.True(refused.Created && refused.Canceled);
            Assert.Equal("rpc error: code = PermissionDenied desc = etcdserver: permission denied", refused.CancelReason);
            await watch.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("a") } });
            Assert.True(await watch.ResponseStream.MoveNext());
            Assert.True(watch.ResponseStream.Current is { Created: true, Canceled: false });
        }

        // A lock runs with the caller's token: root may, no one without a token may.
        var locked = await new Kvorum.Etcd.Api.V3Lock.Lock.LockClient(m1).LockAsync(new Kvorum.Etcd.Api.V3Lock.LockRequest { Name = B("l") }, As(root));
        Assert.StartsWith("l/", locked.Key.ToStringUtf8(), StringComparison.Ordinal);
        var anonymous = await Assert.ThrowsAsync<RpcException>(async () => await new Kvorum.Etcd.Api.V3Lock.Lock.LockClient(m1).LockAsync(new Kvorum.Etcd.Api.V3Lock.LockRequest { Name = B("l2") }));
        Assert.Equal("etcdserver: user name is empty", anonymous.Status.Detail);

        // A lease's keys are listed only to a user who may read each (etcd 3.4.26's rule); its TTL alone to anyone.
        var leases = new Kvorum.Etcd.Api.Lease.LeaseClient(m1);
        var lease = (await leases.LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 }, As(root))).ID;
        await new KV.KVClient(m1).PutAsync(new PutRequest { Key = B("a"), Value = B("1"), Lease = lease }, As(root));
        await new KV.KVClient(m1).PutAsync(new PutRequest { Key = B("b"), Value = B("1"), Lease = lease }, As(root));
        Assert.Equal(2, (await leases.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = lease, Keys = true }, As(root))).Keys.Count);
        Assert.Empty((await leases.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = lease }, As(alice))).Keys);
        var keys = await Assert.ThrowsAsync<RpcException>(async () => await leases.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = lease, Keys = true }, As(alice)));
        Assert.Equal((StatusCode.PermissionDenied, "etcdserver: permission denied"), (keys.StatusCode, keys.Status.Detail));
        var nobody = await Assert.ThrowsAsync<RpcException>(async () => await leases.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = lease, Keys = true }));
        Assert.Equal("etcdserver: user name is empty", nobody.Status.Detail);

        // Root only: whole-store maintenance (etcd's own error, as Unknown) and membership changes.
        var hash = await Assert.ThrowsAsync<RpcException>(async () => await new Maintenance.MaintenanceClient(m1).HashKVAsync(new HashKVRequest(), As(alice)));
        Assert.Equal((StatusCode.Unknown, "auth: permission denied"), (hash.StatusCode, hash.Status.Detail));
        await new Maintenance.MaintenanceClient(m1).HashKVAsync(new HashKVRequest(), As(root));
        var member = await Assert.ThrowsAsync<RpcException>(async () => await new Kvorum.Etcd.Api.Cluster.ClusterClient(m1).MemberAddAsync(new MemberAddRequest { PeerURLs = { "http://127.0.0.1:1" } }, As(alice)));
        Assert.Equal((StatusCode.PermissionDenied, "etcdserver: permission denied"), (member.StatusCode, member.Status.Detail));
    }
}
