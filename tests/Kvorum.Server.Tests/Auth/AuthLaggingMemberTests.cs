using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;
using static Kvorum.Server.Tests.Auth.AuthCluster;

namespace Kvorum.Server.Tests.Auth;

/// <summary>
/// A token got from one member, presented to a member that has not yet applied the login (nor the enabling of
/// authentication before it): the member waits until it has, as etcd's does, and then serves the call as the token's
/// user, instead of resolving the token against the state it had when the call came (no user: "user name is empty").
/// And a member that restarts has no tokens (they are not replicated state, as etcd's simple tokens are not): replaying
/// its log does not bring back the logins of its last run.
/// </summary>
public sealed class AuthLaggingMemberTests
{
    [Fact]
    public async Task A_member_behind_on_the_login_waits_for_it_then_serves_the_tokens_user()
    {
        // The election timeout makes the request timeout (5 times it, 10 s), which bounds the wait below: room for m1 and
        // m3 to start, elect a leader and bring m2 up to date on a loaded machine.
        await using var cluster = await AuthCluster.StartAsync(electionMs: 2000);

        // m2 misses root, the enabling and the login: it is stopped meanwhile.
        await cluster.StopAsync("m2");
        string root;
        using (var m1 = GrpcChannel.ForAddress(cluster.ClientUrl("m1")))
        {
            root = await AuthCluster.EnableWithRootAsync(m1);
            await new KV.KVClient(m1).PutAsync(new PutRequest { Key = B("a"), Value = B("1") }, As(root));
        }

        // m2 comes back alone: with no leader it cannot catch up, and the calls made with root's token must wait.
        await cluster.StopAsync("m1");
        await cluster.StopAsync("m3");
        cluster.Start("m2");
        using var m2 = GrpcChannel.ForAddress(cluster.ClientUrl("m2"));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await new Maintenance.MaintenanceClient(m2).StatusAsync(new StatusRequest());
                break;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }
        var kv = new KV.KVClient(m2);
        var read = kv.RangeAsync(new RangeRequest { Key = B("a") }, As(root)).ResponseAsync;
        var write = kv.PutAsync(new PutRequest { Key = B("b"), Value = B("2") }, As(root)).ResponseAsync;
        var serializable = kv.RangeAsync(new RangeRequest { Key = B("a"), Serializable = true }, As(root)).ResponseAsync;
        await Task.Delay(300);
        Assert.False(read.IsCompleted || write.IsCompleted || serializable.IsCompleted, "a call with a token m2 cannot know yet did not wait");

        cluster.Start("m1");
        cluster.Start("m3");
        Assert.Equal("1", (await read).Kvs.Single().Value.ToStringUtf8());
        Assert.Equal("1", (await serializable).Kvs.Single().Value.ToStringUtf8());
        await write;
        var b = await kv.RangeAsync(new RangeRequest { Key = B("b") }, As(root));
        Assert.Equal("2", b.Kvs.Single().Value.ToStringUtf8());

        // The token's user is who the calls were made as: without it, m2 now refuses them, as etcd does.
        var anonymous = await Assert.ThrowsAsync<RpcException>(async () => await kv.RangeAsync(new RangeRequest { Key = B("a") }));
        Assert.Contains("user name is empty", anonymous.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_restarted_member_forgets_the_tokens_of_its_last_run_and_the_others_keep_them()
    {
        await using var cluster = await AuthCluster.StartAsync();
        string root;
        using (var m1 = GrpcChannel.ForAddress(cluster.ClientUrl("m1")))
        {
            root = await AuthCluster.EnableWithRootAsync(m1);
            // Applied on m1 (a linearizable read there), so the login is in what m1 replays when it starts again.
            await new KV.KVClient(m1).PutAsync(new PutRequest { Key = B("a"), Value = B("1") }, As(root));
            await new KV.KVClient(m1).RangeAsync(new RangeRequest { Key = B("a") }, As(root));
        }

        await cluster.StopAsync("m1");
        cluster.Start("m1");
        using var again = GrpcChannel.ForAddress(cluster.ClientUrl("m1"));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        RpcException refused;
        while (true)
        {
            try
            {
                await new KV.KVClient(again).RangeAsync(new RangeRequest { Key = B("a") }, As(root));
                Assert.Fail("the restarted member took a token of its last run");
                return;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50); // not listening yet
            }
            catch (RpcException e)
            {
                refused = e;
                break;
            }
        }
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Contains("invalid auth token", refused.Status.Detail, StringComparison.Ordinal);
        using var m2 = GrpcChannel.ForAddress(cluster.ClientUrl("m2"));
        var read = await new KV.KVClient(m2).RangeAsync(new RangeRequest { Key = B("a") }, As(root));
        Assert.Equal("1", read.Kvs.Single().Value.ToStringUtf8());
    }
}
