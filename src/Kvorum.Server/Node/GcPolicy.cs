using System.Collections.Immutable;

namespace Kvorum.Server.Node;

/// <summary>
/// The garbage collections the member loop starts itself, once per loop turn: a follower's staggered ones
/// (<see cref="GcStagger"/>), a leader's within its budget (<see cref="LeaderGcBudget"/>); either is off when its
/// option is 0. The follower's shift in the stagger's grid is recomputed only when the leader or the voters change.
/// </summary>
/// <remarks>Owned by the member loop (<see cref="LoopOwner"/>).</remarks>
internal sealed class GcPolicy
{
    private readonly GcStagger? _stagger;
    private readonly LeaderGcBudget? _leaderBudget;
    private readonly ulong _self;
    private readonly NodeMetrics _metrics;
    private readonly LoopOwner _owner;

    // PhaseOf's last answer, and the leader and voters it was computed for.
    private (ulong Leader, ImmutableArray<ulong> Voters, double Phase) _phase;

    /// <summary>The policy of member <paramref name="self"/>; a test passes no <paramref name="owner"/>.</summary>
    public GcPolicy(GcStagger? stagger, LeaderGcBudget? leaderBudget, ulong self, NodeMetrics metrics, LoopOwner? owner = null)
    {
        _stagger = stagger;
        _leaderBudget = leaderBudget;
        _self = self;
        _metrics = metrics;
        _owner = owner ?? new LoopOwner();
    }

    /// <summary>The policy the options ask for (<see cref="ServerOptions.GcStaggerEntries"/>, <see cref="ServerOptions.LeaderGcBudgetBytes"/>).</summary>
    public static GcPolicy Of(ServerOptions options, ulong self, NodeMetrics metrics, LoopOwner owner)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new GcPolicy(
            options.GcStaggerEntries > 0 ? new GcStagger(options.GcStaggerEntries) : null,
            options.LeaderGcBudgetBytes > 0 ? new LeaderGcBudget(options.LeaderGcBudgetBytes) : null,
            self,
            metrics,
            owner);
    }

    /// <summary>
    /// At the end of a loop turn, with this member's applied index, whether it leads, and the leader and voters it
    /// knows: starts a collection if one is due, and counts it.
    /// </summary>
    public void AfterTurn(ulong applied, bool isLeader, ulong leader, ImmutableArray<ulong> voters)
    {
        _owner.AssertOwned();
        if (_stagger?.Tick(applied, isLeader, Phase(leader, voters)) == true)
            Interlocked.Increment(ref _metrics.StaggeredCollections);
        if (_leaderBudget?.Tick(isLeader) == true)
            Interlocked.Increment(ref _metrics.LeaderBudgetCollections);
    }

    private double Phase(ulong leader, ImmutableArray<ulong> voters)
    {
        if (_phase.Leader != leader || _phase.Voters != voters)
            _phase = (leader, voters, GcStagger.PhaseOf(_self, voters, leader));
        return _phase.Phase;
    }
}
