using Kvorum.Raft;

namespace Kvorum.Server.Node;

/// <summary>
/// etcd 3.4's promotion rule (<c>isLearnerReady</c>): a member is promoted only once the leader has replicated to it
/// at least 90% of what it has itself (its Raft progress Match against the leader's own), so that a learner far
/// behind does not become a voter the quorum must wait for. Only a leader has the progress to judge from; another
/// member hands the promotion to the leader. etcd applies the rule whether or not <c>--strict-reconfig-check</c> is
/// on, and before the checks of the member table: a member the progress does not know (no such member) passes it,
/// and so does a voter in sync; a voter behind is refused as a learner behind is.
/// </summary>
internal static class LearnerReadiness
{
    /// <summary>The share of the leader's Match the learner's must reach (etcd's <c>readyPercent</c>).</summary>
    public const double ReadyShare = 0.9;

    /// <summary>What the leader's progress says of a promotion.</summary>
    public enum Verdict
    {
        /// <summary>In sync, or not known to the progress: the promotion goes on to the other checks.</summary>
        Ready,

        /// <summary>Behind: refused with <see cref="Kvorum.Etcd.Errors.EtcdErrors.LearnerNotReady"/>.</summary>
        NotReady,

        /// <summary>This member does not lead (no progress): the leader must judge.</summary>
        NotLeader,
    }

    /// <summary>Judges the promotion of <paramref name="member"/> from the progress of leader <paramref name="self"/>.</summary>
    /// <param name="member">The member to promote.</param>
    /// <param name="self">This member's id, whose own progress is the leader's.</param>
    /// <param name="progress">The leader's progress of every member; empty on a member that does not lead.</param>
    public static Verdict Judge(ulong member, ulong self, IReadOnlyDictionary<ulong, ProgressStatus> progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        if (!progress.TryGetValue(self, out var leader))
            return Verdict.NotLeader;
        if (!progress.TryGetValue(member, out var learner))
            return Verdict.Ready;
        // In floating point, as etcd compares: float64(learnerMatch) < float64(leaderMatch) * 0.9.
        return learner.Match < leader.Match * ReadyShare ? Verdict.NotReady : Verdict.Ready;
    }
}
