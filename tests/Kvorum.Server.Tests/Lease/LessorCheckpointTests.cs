using Kvorum.Server.Lease;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Tests.Lease;

/// <summary>
/// Lease checkpoints (<c>Lessor.Checkpoints.cs</c>) on clocks the test moves by hand: a leader (primary) and a
/// follower that applies what the leader proposes, then takes over.
/// </summary>
public sealed class LessorCheckpointTests
{
    private long _leaderNow = 1_000_000;
    private long _followerNow = 5_000_000;

    private Lessor NewLeader(bool checkpoints = true) => new(2, () => _leaderNow, checkpoints: checkpoints);

    private Lessor NewFollower() => new(2, () => _followerNow);

    private void Elapse(long ms)
    {
        _leaderNow += ms;
        _followerNow += ms;
    }

    /// <summary>Lease 1 of <paramref name="primary"/> is due exactly <paramref name="ms"/> from now: not a millisecond before.</summary>
    private void ExpiresIn(Lessor primary, long ms)
    {
        Elapse(ms - 1);
        Assert.Empty(primary.TakeExpired(100, 16, 5000));
        Elapse(1);
        Assert.Equal([1L], primary.TakeExpired(100, 16, 5000));
    }

    /// <summary>Both members apply a batch the leader took, as Raft would.</summary>
    private static void ApplyEverywhere(IReadOnlyList<(long Id, long RemainingMs)> batch, params Lessor[] members)
    {
        foreach (var member in members)
        {
            foreach (var (id, remaining) in batch)
                member.ApplyCheckpoint(id, remaining);
        }
    }

    [Fact]
    public void A_lease_no_one_renews_is_checkpointed_after_half_its_TTL_and_a_new_leader_restarts_it_from_what_it_had_left()
    {
        var leader = NewLeader();
        var follower = NewFollower();
        leader.Promote(extendMs: 0);
        leader.Grant(1, 10);
        follower.Grant(1, 10);
        Elapse(4_999);
        Assert.Empty(leader.TakeCheckpoints(100, 5000));
        Elapse(1);
        var batch = leader.TakeCheckpoints(100, 5000);
        Assert.Equal([(1L, 5_000L)], batch);
        Elapse(20); // the round through Raft
        ApplyEverywhere(batch, leader, follower);
        Assert.Empty(leader.TakeCheckpoints(100, 5000)); // checkpointed, not renewed since: nothing more to say
        // The leader dies 1 s later; the follower takes over with an election timeout of 1 s.
        Elapse(1_000);
        leader.Demote();
        follower.Promote(extendMs: 1_000);
        // Due at 5 s (checkpoint) - 1 s (since it was applied) + 1 s (promotion) = 5 s from now, not 11 s.
        ExpiresIn(follower, 5_000);
    }

    [Fact]
    public void Without_a_checkpoint_a_new_leader_gives_the_whole_TTL_and_with_checkpoints_off_none_is_taken()
    {
        var leader = NewLeader(checkpoints: false);
        var follower = NewFollower();
        leader.Promote(extendMs: 0);
        leader.Grant(1, 10);
        follower.Grant(1, 10);
        Elapse(9_000);
        Assert.Empty(leader.TakeCheckpoints(100, 5000));
        follower.Promote(extendMs: 1_000);
        ExpiresIn(follower, 11_000);
    }

    [Fact]
    public void A_renewal_of_a_checkpointed_lease_asks_for_a_clear_and_after_it_a_new_leader_gives_the_whole_TTL_again()
    {
        var leader = NewLeader();
        var follower = NewFollower();
        leader.Promote(extendMs: 0);
        leader.Grant(1, 10);
        follower.Grant(1, 10);
        leader.Renew(1, out var clear);
        Assert.False(clear); // never checkpointed: the renewal is acknowledged at once
        Elapse(6_000);
        var batch = leader.TakeCheckpoints(100, 5000);
        ApplyEverywhere(batch, leader, follower);
        Assert.Equal(10, leader.Renew(1, out clear));
        Assert.True(clear);
        ApplyEverywhere([(1, 0)], leader, follower); // the clear, applied before the renewal is answered
        Elapse(1_000);
        follower.Promote(extendMs: 1_000);
        ExpiresIn(follower, 11_000);
    }

    [Fact]
    public void A_renewal_while_a_checkpoint_is_in_flight_asks_for_a_clear_too()
    {
        var leader = NewLeader();
        leader.Promote(extendMs: 0);
        leader.Grant(1, 4);
        Elapse(2_000);
        var batch = leader.TakeCheckpoints(100, 5000);
        Assert.Single(batch);
        leader.Renew(1, out var clear); // before the checkpoint is applied: it would apply after this renewal
        Assert.True(clear);
    }

    [Fact]
    public void A_checkpoint_that_is_not_applied_is_proposed_again_after_the_retry_time()
    {
        var leader = NewLeader();
        leader.Promote(extendMs: 0);
        leader.Grant(1, 10);
        Elapse(5_000);
        Assert.Single(leader.TakeCheckpoints(100, 2000));
        Elapse(1_999);
        Assert.Empty(leader.TakeCheckpoints(100, 2000));
        Elapse(1);
        Assert.Equal([(1L, 3_000L)], leader.TakeCheckpoints(100, 2000));
    }

    [Fact]
    public void A_checkpoint_survives_a_snapshot_and_counts_down_from_the_restore()
    {
        var leader = NewLeader();
        var follower = NewFollower();
        leader.Promote(extendMs: 0);
        leader.Grant(1, 10);
        follower.Grant(1, 10);
        Elapse(5_000);
        ApplyEverywhere(leader.TakeCheckpoints(100, 5000), leader, follower);
        Elapse(3_000);
        var records = follower.Capture();
        Assert.Equal(5_000, records.Single().CheckpointMs);
        var restored = NewFollower();
        restored.Restore(records);
        restored.Promote(extendMs: 0);
        // Restored now: the 5 s count again from here, later than on the members that applied the checkpoint.
        ExpiresIn(restored, 5_000);
    }

    [Fact]
    public void Expiring_and_revoked_leases_are_not_checkpointed_and_a_malformed_proposal_is_built_pairwise()
    {
        var leader = NewLeader();
        leader.Promote(extendMs: 0);
        leader.Grant(1, 2);
        leader.Grant(2, 2);
        leader.Revoke(2);
        Elapse(2_000); // lease 1 is due for both its checkpoint and its expiry
        Assert.Equal([1L], leader.TakeExpired(100, 16, 5000));
        Assert.Empty(leader.TakeCheckpoints(100, 5000));
        var proposal = Lessor.ToProposal([(7, 100), (8, 0)]);
        Assert.Equal(new LeaseCheckpoints { Ids = { 7, 8 }, RemainingMs = { 100, 0 } }, proposal);
    }
}
