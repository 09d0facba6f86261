using System.Collections.Immutable;
using Kvorum.Server.Node;

namespace Kvorum.Server.Tests.Node;

/// <summary>The collections the loop starts itself (<see cref="GcPolicy"/>): a follower's staggered ones and a leader's within its budget, counted.</summary>
public sealed class GcPolicyTests
{
    private static readonly ImmutableArray<ulong> Voters = [10, 20, 30];

    [Fact]
    public void A_follower_collects_on_its_shifted_grid_and_each_is_counted_and_a_leader_does_not_stagger()
    {
        var collected = new List<ulong>();
        ulong applied = 0;
        var metrics = new NodeMetrics();
        var policy = new GcPolicy(new GcStagger(1000, () => collected.Add(applied)), null, self: 30, metrics);

        // Leader 10: the followers are 20 and 30, and 30 is shifted by half a period.
        for (applied = 0; applied <= 2000; applied += 100)
            policy.AfterTurn(applied, isLeader: false, leader: 10, Voters);
        Assert.Equal([500UL, 1500], collected);
        Assert.Equal(2, metrics.StaggeredCollections);

        for (; applied <= 5000; applied += 100)
            policy.AfterTurn(applied, isLeader: true, leader: 30, Voters);
        Assert.Equal(2, collected.Count);
    }

    /// <summary>Runs member 20 from index 0 to 1,000 with its first shift, then to 3,000 with its second; returns where it collected.</summary>
    private static List<ulong> ShiftChange(ulong leaderBefore, ImmutableArray<ulong> votersBefore, ulong leaderAfter, ImmutableArray<ulong> votersAfter)
    {
        var collected = new List<ulong>();
        ulong applied = 0;
        var policy = new GcPolicy(new GcStagger(1000, () => collected.Add(applied)), null, self: 20, new NodeMetrics());
        for (applied = 0; applied <= 1000; applied += 100)
            policy.AfterTurn(applied, false, leaderBefore, votersBefore);
        for (; applied <= 3000; applied += 100)
            policy.AfterTurn(applied, false, leaderAfter, votersAfter);
        return collected;
    }

    [Fact]
    public void The_shift_is_recomputed_when_the_leader_changes()
    {
        // Under leader 10, 20 is the first of the followers 20 and 30 (shift 0); under leader 30, the second of 10 and 20.
        var collected = ShiftChange(10, Voters, 30, Voters);
        Assert.Contains(1000UL, collected);
        Assert.Contains(1500UL, collected);
        Assert.Contains(2500UL, collected);
        Assert.DoesNotContain(2000UL, collected);
        Assert.DoesNotContain(3000UL, collected);
    }

    [Fact]
    public void The_shift_is_recomputed_when_the_voters_change()
    {
        // With voters 10, 20, 30, member 20 is the first of the followers; with 10, 15, 20, the second.
        var collected = ShiftChange(10, [10, 20, 30], 10, [10, 15, 20]);
        Assert.Contains(1500UL, collected);
        Assert.Contains(2500UL, collected);
        Assert.DoesNotContain(2000UL, collected);
        Assert.DoesNotContain(3000UL, collected);
    }

    [Fact]
    public void A_leader_collects_within_its_budget_and_each_is_counted()
    {
        long allocated = 0;
        var collections = 0;
        var metrics = new NodeMetrics();
        var budget = new LeaderGcBudget(1000, () => allocated, () => collections, () => collections++);
        var policy = new GcPolicy(null, budget, self: 10, metrics);

        policy.AfterTurn(0, isLeader: true, leader: 10, Voters); // counts from here
        allocated = 999;
        policy.AfterTurn(0, true, 10, Voters);
        Assert.Equal(0, metrics.LeaderBudgetCollections);
        allocated = 1000;
        policy.AfterTurn(0, true, 10, Voters);
        Assert.Equal(1, metrics.LeaderBudgetCollections);
        allocated = 5000;
        policy.AfterTurn(0, isLeader: false, leader: 20, Voters);
        Assert.Equal(1, metrics.LeaderBudgetCollections);
    }

    [Fact]
    public void The_options_turn_each_off_with_0()
    {
        var metrics = new NodeMetrics();
        var off = GcPolicy.Of(new ServerOptions { GcStaggerEntries = 0, LeaderGcBudgetBytes = 0 }, 1, metrics, new LoopOwner());
        for (ulong applied = 0; applied < 100_000; applied += 1000)
            off.AfterTurn(applied, false, 2, Voters);
        Assert.Equal(0, metrics.StaggeredCollections);
    }

    [Fact]
    public void Only_the_loop_thread_runs_the_policy() =>
        LoopThread.AssertOnlyTheLoopMay(owner => new GcPolicy(null, null, 1, new NodeMetrics(), owner).AfterTurn(1, false, 2, Voters));
}
