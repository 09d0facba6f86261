namespace Kvorum.Server.Node;

/// <summary>How <c>--auto-compaction-retention</c> is read (<c>--auto-compaction-mode</c>, etcd's flags).</summary>
internal enum AutoCompactionMode
{
    /// <summary>Keep the history of the last retention period: a duration.</summary>
    Periodic,

    /// <summary>Keep the last retention revisions: a number.</summary>
    Revision,
}

/// <summary>
/// When the leader compacts on its own, as etcd's auto-compaction does. Pure: it is shown the time and the store's
/// revision at each check (<see cref="CheckInterval"/> apart) and answers the revision to compact to, if any.
/// <list type="bullet">
/// <item>Periodic, retention R: checks every R/10 (at least a second) and compacts to the revision the store had R
/// ago, so that the history of the last R stays readable.</item>
/// <item>Revision, retention N: checks every 5 minutes and compacts to the current revision minus N.</item>
/// </list>
/// A revision is answered once: a later check answers only a newer one.
/// </summary>
internal sealed class AutoCompaction
{
    private readonly AutoCompactionMode _mode;
    private readonly TimeSpan _period;
    private readonly long _revisions;

    // Periodic: (time, revision) seen at the checks, oldest first, from the newest one at least a period old.
    // Invariant: times strictly increase.
    private readonly List<(TimeSpan At, long Revision)> _seen = [];
    private long _lastAnswered;

    /// <summary>A policy for a periodic retention.</summary>
    /// <param name="period">How much history to keep; positive.</param>
    public static AutoCompaction Periodic(TimeSpan period)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(period, TimeSpan.Zero);
        return new AutoCompaction(AutoCompactionMode.Periodic, period, 0);
    }

    /// <summary>A policy for a retention counted in revisions.</summary>
    /// <param name="revisions">How many revisions to keep; positive.</param>
    public static AutoCompaction Revisions(long revisions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(revisions, 0);
        return new AutoCompaction(AutoCompactionMode.Revision, TimeSpan.Zero, revisions);
    }

    private AutoCompaction(AutoCompactionMode mode, TimeSpan period, long revisions)
    {
        _mode = mode;
        _period = period;
        _revisions = revisions;
    }

    /// <summary>How often <see cref="Check"/> is meant to be called.</summary>
    public TimeSpan CheckInterval => _mode == AutoCompactionMode.Periodic
        ? TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, _period.Ticks / 10))
        : TimeSpan.FromMinutes(5);

    /// <summary>What the retention says in etcd's words, for the log.</summary>
    public override string ToString() =>
        _mode == AutoCompactionMode.Periodic ? $"periodic, keeping {_period}" : $"revision, keeping {_revisions} revisions";

    /// <summary>
    /// Records the store's <paramref name="revision"/> at <paramref name="now"/> (a monotonic time) and answers the
    /// revision to compact to now, or 0 for none.
    /// </summary>
    public long Check(TimeSpan now, long revision)
    {
        long target;
        if (_mode == AutoCompactionMode.Revision)
        {
            target = revision - _revisions;
        }
        else
        {
            if (_seen.Count == 0 || now > _seen[^1].At)
                _seen.Add((now, revision));
            var newestOld = 0;
            while (newestOld + 1 < _seen.Count && now - _seen[newestOld + 1].At >= _period)
                newestOld++;
            _seen.RemoveRange(0, newestOld);
            target = now - _seen[0].At >= _period ? _seen[0].Revision : 0;
        }
        if (target <= _lastAnswered || target < 2)
            return 0; // revision 1 is the empty store: nothing before it to compact
        _lastAnswered = target;
        return target;
    }
}
