using System.Diagnostics;
using Grpc.Core;
using Kvorum.Etcd.Api;

namespace Kvorum.Server.Tests.Lease;

/// <summary>Lease checkpoints across a leader's loss (<c>Lessor.Checkpoints.cs</c>), on the real in-process cluster.</summary>
public sealed partial class LeaseClusterTests
{
    /// <summary>
    /// Two leases of TTL 4 s, renewed once and then left for 2.6 s, so that the leader checkpoints both (after half the
    /// TTL); then one is renewed again, and the leader is stopped. The abandoned one must go less than its TTL after
    /// the survivors agree on a new leader (a new leader without the checkpoint would give it a whole TTL + an election
    /// timeout from then); the renewed one must not go before its TTL after its last renewal (the clear that renewal
    /// waited for makes the new leader give it a whole TTL).
    /// </summary>
    [Fact]
    public async Task A_new_leader_expires_a_checkpointed_lease_from_what_it_had_left_and_a_renewal_after_the_checkpoint_still_counts()
    {
        const int ttl = 4;
        var (leader, follower) = await RolesAsync();
        var leases = Leases(follower);
        var abandoned = await leases.LeaseGrantAsync(new LeaseGrantRequest { TTL = ttl });
        var renewed = await leases.LeaseGrantAsync(new LeaseGrantRequest { TTL = ttl });
        await Kv(follower).PutAsync(new PutRequest { Key = B("ck/abandoned"), Value = B("v"), Lease = abandoned.ID });
        await Kv(follower).PutAsync(new PutRequest { Key = B("ck/renewed"), Value = B("v"), Lease = renewed.ID });

        using var stream = leases.LeaseKeepAlive();
        async Task<long> RenewAsync(long id)
        {
            var sent = Stopwatch.GetTimestamp();
            await stream.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = id });
            Assert.True(await stream.ResponseStream.MoveNext());
            Assert.Equal(ttl, stream.ResponseStream.Current.TTL);
            return sent;
        }
        await RenewAsync(abandoned.ID);
        await RenewAsync(renewed.ID);
        await Task.Delay(2600); // past half the TTL: both are checkpointed
        var renewedAt = await RenewAsync(renewed.ID);
        await stream.RequestStream.CompleteAsync();
        await _cluster.StopAsync(leader);
        var (_, _) = await RolesAsync();
        var elected = Stopwatch.GetTimestamp();

        double? abandonedGone = null, renewedGone = null;
        var until = Stopwatch.StartNew();
        while ((abandonedGone is null || renewedGone is null) && until.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (abandonedGone is null && !await ExistsAsync(follower, "ck/abandoned"))
                abandonedGone = Stopwatch.GetElapsedTime(elected).TotalMilliseconds;
            if (renewedGone is null && !await ExistsAsync(follower, "ck/renewed"))
                renewedGone = Stopwatch.GetElapsedTime(renewedAt).TotalMilliseconds;
            await Task.Delay(20);
        }
        output.WriteLine($"abandoned: gone {abandonedGone:F0} ms after the new leader; renewed: gone {renewedGone:F0} ms after its last renewal was sent");
        Assert.NotNull(abandonedGone);
        Assert.NotNull(renewedGone);
        Assert.True(abandonedGone < ttl * 1000, $"the checkpointed lease lived {abandonedGone:F0} ms after the new leader: restarted with its whole TTL");
        Assert.True(renewedGone >= ttl * 1000, $"the lease renewed after its checkpoint went {ttl * 1000 - renewedGone:F0} ms early");
    }
}
