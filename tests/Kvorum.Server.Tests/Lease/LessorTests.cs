using Kvorum.Etcd.Errors;
using Kvorum.Server.Lease;

namespace Kvorum.Server.Tests.Lease;

/// <summary>The lease table and the leader's deadlines (<see cref="Lessor"/>), on a clock the test moves by hand.</summary>
public sealed class LessorTests
{
    private long _now = 1_000_000;

    private Lessor NewLessor(long minTtl = 2) => new(minTtl, () => _now);

    [Theory]
    [InlineData(1000, 100, 2)] // etcd's defaults: 15 heartbeats of 100 ms, 1.5 s, rounded up
    [InlineData(500, 50, 1)] // 0.75 s
    [InlineData(2000, 100, 3)] // 3 s exactly
    [InlineData(1050, 100, 2)] // 10 ticks (whole heartbeats), as etcd counts them
    [InlineData(5000, 1000, 7)] // 5 ticks: ⌊15/2⌋ = 7 heartbeats, as etcd's integer arithmetic
    public void The_minimum_TTL_is_one_and_a_half_election_timeouts_in_whole_heartbeats_rounded_up_to_seconds(int electionMs, int heartbeatMs, long expected) =>
        Assert.Equal(expected, Lessor.MinTtlSeconds(electionMs, heartbeatMs));

    [Fact]
    public void A_proposed_TTL_below_the_minimum_is_raised_to_it_and_a_grant_is_applied_with_the_TTL_proposed()
    {
        var lessor = NewLessor(minTtl: 3);
        Assert.Equal((3, 3, 100), (lessor.Raise(1), lessor.Raise(-5), lessor.Raise(100)));
        // Applied as proposed, even below this member's own minimum: the proposer's election timeout may be shorter.
        Assert.Equal(2, lessor.Grant(1, 2));
        Assert.Equal(1, lessor.Grant(2, -5));
        Assert.Equal(100, lessor.Grant(3, 100));
    }

    [Fact]
    public void The_largest_TTL_is_9e9_seconds()
    {
        var lessor = NewLessor();
        Assert.Equal(9_000_000_000, lessor.Grant(1, 9_000_000_000));
        var error = Assert.Throws<EtcdException>(() => lessor.Grant(2, 9_000_000_001));
        Assert.Equal(EtcdErrors.LeaseTtlTooLarge, error.Error);
        Assert.False(lessor.Exists(2));
    }

    [Fact]
    public void A_second_grant_of_an_id_fails_with_lease_already_exists_and_negative_ids_are_leases_like_others()
    {
        var lessor = NewLessor();
        lessor.Grant(-7, 10);
        var error = Assert.Throws<EtcdException>(() => lessor.Grant(-7, 20));
        Assert.Equal(EtcdErrors.LeaseExists, error.Error);
        Assert.Equal((10L, 10L), lessor.TimeToLive(-7));
        Assert.Equal(EtcdErrors.LeaseNotFound, Assert.Throws<EtcdException>(() => lessor.Grant(0, 10)).Error);
    }

    [Fact]
    public void A_lessor_that_is_not_primary_never_expires_a_lease()
    {
        var lessor = NewLessor();
        lessor.Grant(1, 2);
        _now += 3_600_000;
        Assert.Empty(lessor.TakeExpired(100, 16, 5000));
        Assert.True(lessor.Exists(1));
    }

    [Fact]
    public void Time_to_live_is_the_whole_seconds_left_rounded_down()
    {
        var lessor = NewLessor();
        lessor.Promote(extendMs: 0);
        lessor.Grant(1, 100);
        Assert.Equal((100L, 100L), lessor.TimeToLive(1));
        _now += 1;
        Assert.Equal((100L, 99L), lessor.TimeToLive(1));
        _now += 98_999;
        Assert.Equal((100L, 1L), lessor.TimeToLive(1));
        _now += 1;
        Assert.Equal((100L, 0L), lessor.TimeToLive(1));
        Assert.Null(lessor.TimeToLive(2));
    }

    [Fact]
    public void Promotion_gives_every_lease_its_full_TTL_plus_the_election_timeout()
    {
        var lessor = NewLessor();
        lessor.Grant(1, 10);
        lessor.Grant(2, 30);
        lessor.Promote(extendMs: 1000);
        _now += 10_999;
        Assert.Empty(lessor.TakeExpired(100, 16, 5000));
        _now += 1;
        Assert.Equal([1L], lessor.TakeExpired(100, 16, 5000));
        Assert.Equal((30L, 20L), lessor.TimeToLive(2));
    }

    [Fact]
    public void Promotion_with_a_thousand_leases_or_more_spreads_them_to_at_most_750_a_second()
    {
        var lessor = NewLessor();
        for (var id = 1; id <= 3000; id++)
            lessor.Grant(id, 10);
        lessor.Promote(extendMs: 0);
        var start = _now;
        var perSecond = new List<int>();
        for (var second = 0; second < 20; second++)
        {
            _now = start + 10_000 + (second * 1000) + 999;
            var expired = 0;
            while (lessor.TakeExpired(100_000, 100_000, 3_600_000) is { Count: > 0 } batch)
                expired += batch.Count;
            perSecond.Add(expired);
        }
        Assert.Equal(3000, perSecond.Sum());
        Assert.All(perSecond, n => Assert.InRange(n, 0, Lessor.SpreadPerSecond));
    }

    [Fact]
    public void Demotion_drops_every_deadline_and_a_new_promotion_restarts_them()
    {
        var lessor = NewLessor();
        lessor.Grant(1, 5);
        lessor.Promote(extendMs: 0);
        _now += 4000;
        lessor.Demote();
        Assert.False(lessor.IsPrimary);
        _now += 60_000;
        Assert.Empty(lessor.TakeExpired(100, 16, 5000));
        lessor.Promote(extendMs: 500);
        _now += 5499;
        Assert.Empty(lessor.TakeExpired(100, 16, 5000));
        _now += 1;
        Assert.Equal([1L], lessor.TakeExpired(100, 16, 5000));
    }

    [Fact]
    public void A_renewal_pushes_the_deadline_out_by_the_whole_TTL_and_answers_the_granted_TTL()
    {
        var lessor = NewLessor();
        lessor.Promote(extendMs: 0);
        lessor.Grant(1, 10);
        _now += 9000;
        Assert.Equal(10, lessor.Renew(1, out _));
        _now += 9999;
        Assert.Empty(lessor.TakeExpired(100, 16, 5000));
        _now += 1;
        Assert.Equal([1L], lessor.TakeExpired(100, 16, 5000));
    }

    [Fact]
    public void An_unknown_lease_or_one_expired_and_waiting_for_its_revoke_is_not_renewed()
    {
        var lessor = NewLessor();
        lessor.Promote(extendMs: 0);
        lessor.Grant(1, 2);
        Assert.Equal(-1, lessor.Renew(99, out _));
        _now += 2000;
        Assert.Equal(-1, lessor.Renew(1, out _));
        Assert.True(lessor.Exists(1));
    }

    [Fact]
    public void Only_the_primary_renews()
    {
        var lessor = NewLessor();
        lessor.Grant(1, 2);
        Assert.Throws<InvalidOperationException>(() => lessor.Renew(1, out _));
    }

    [Fact]
    public void Expiry_is_taken_in_bounded_batches_with_a_bounded_number_in_flight()
    {
        var lessor = NewLessor();
        lessor.Promote(extendMs: 0);
        for (var id = 1; id <= 40; id++)
            lessor.Grant(id, 2);
        _now += 2000;
        var taken = new List<long>();
        taken.AddRange(lessor.TakeExpired(maxBatch: 5, maxInFlight: 16, retryMs: 5000));
        Assert.Equal(5, taken.Count);
        taken.AddRange(lessor.TakeExpired(maxBatch: 5, maxInFlight: 16, retryMs: 5000));
        taken.AddRange(lessor.TakeExpired(maxBatch: 5, maxInFlight: 16, retryMs: 5000));
        Assert.Equal(15, taken.Count);
        Assert.Single(lessor.TakeExpired(maxBatch: 5, maxInFlight: 16, retryMs: 5000)); // 16 in flight
        Assert.Empty(lessor.TakeExpired(maxBatch: 5, maxInFlight: 16, retryMs: 5000));
        // Two revokes are applied: two more may go.
        lessor.Revoke(taken[0]);
        lessor.Revoke(taken[1]);
        Assert.Equal(2, lessor.TakeExpired(maxBatch: 5, maxInFlight: 16, retryMs: 5000).Count);
    }

    [Fact]
    public void An_expired_lease_whose_revoke_was_not_applied_is_taken_again_after_the_retry_time()
    {
        var lessor = NewLessor();
        lessor.Promote(extendMs: 0);
        lessor.Grant(1, 2);
        _now += 2000;
        Assert.Equal([1L], lessor.TakeExpired(100, 16, retryMs: 5000));
        _now += 4999;
        Assert.Empty(lessor.TakeExpired(100, 16, retryMs: 5000));
        _now += 1;
        Assert.Equal([1L], lessor.TakeExpired(100, 16, retryMs: 5000));
        lessor.Revoke(1);
        _now += 10_000;
        Assert.Empty(lessor.TakeExpired(100, 16, retryMs: 5000));
    }

    [Fact]
    public void Many_renewals_do_not_let_stale_deadlines_expire_a_lease()
    {
        var lessor = NewLessor();
        lessor.Promote(extendMs: 0);
        lessor.Grant(1, 2);
        lessor.Grant(2, 2);
        for (var i = 0; i < 1000; i++)
        {
            _now += 100;
            lessor.Renew(1, out _);
            long[] expected = i == 19 ? [2L] : [];
            Assert.Equal(expected, lessor.TakeExpired(100, 16, 3_600_000));
        }
        Assert.True(lessor.Exists(1));
    }

    [Fact]
    public void A_captured_table_restores_with_no_deadlines_and_leases_lists_soonest_first()
    {
        var lessor = NewLessor();
        lessor.Promote(extendMs: 0);
        lessor.Grant(3, 50);
        lessor.Grant(1, 10);
        lessor.Grant(2, 30);
        Assert.Equal([1L, 2L, 3L], lessor.Ids());
        var restored = NewLessor();
        restored.Restore(lessor.Capture());
        Assert.Equal(3, restored.Count);
        Assert.Equal((30L, 30L), restored.TimeToLive(2));
        _now += 3_600_000;
        Assert.Empty(restored.TakeExpired(100, 16, 5000));
    }
}
