using Kvorum.Raft;
using Kvorum.Raft.Tracking;
using Kvorum.Server.Node;
using static Kvorum.Server.Node.LearnerReadiness;

namespace Kvorum.Server.Tests.Node;

/// <summary>etcd 3.4's promotion rule (<see cref="LearnerReadiness"/>, its <c>isLearnerReady</c>): the leader's progress judges.</summary>
public sealed class LearnerReadinessTests
{
    private const ulong Leader = 1, Follower = 2, Learner = 4;

    /// <summary>A leader's progress: its own Match, a follower's, and the learner's.</summary>
    private static Dictionary<ulong, ProgressStatus> Progress(ulong leaderMatch, ulong learnerMatch) => new()
    {
        [Leader] = new(leaderMatch, leaderMatch + 1, ProgressState.Replicate),
        [Follower] = new(leaderMatch, leaderMatch + 1, ProgressState.Replicate),
        [Learner] = new(learnerMatch, learnerMatch + 1, ProgressState.Replicate),
    };

    [Theory]
    [InlineData(1000UL, 900UL, true)] // exactly 90%
    [InlineData(1000UL, 899UL, false)] // one entry short of it
    [InlineData(1000UL, 1000UL, true)]
    [InlineData(1000UL, 0UL, false)] // added, never started
    [InlineData(10UL, 9UL, true)]
    [InlineData(11UL, 9UL, false)] // 9 < 9.9
    [InlineData(0UL, 0UL, true)]
    public void A_learner_is_ready_at_90_percent_of_the_leaders_match(ulong leaderMatch, ulong learnerMatch, bool ready) =>
        Assert.Equal(ready ? Verdict.Ready : Verdict.NotReady, Judge(Learner, Leader, Progress(leaderMatch, learnerMatch)));

    [Fact]
    public void The_share_is_not_rounded_down_to_whole_entries()
    {
        // 90% of 19 is 17.1: 17 is short of it, though integer arithmetic (19 * 9 / 10 = 17) would let it pass.
        Assert.Equal(Verdict.NotReady, Judge(Learner, Leader, Progress(19, 17)));
        Assert.Equal(Verdict.Ready, Judge(Learner, Leader, Progress(19, 18)));
    }

    [Fact]
    public void A_member_the_progress_does_not_know_is_left_to_the_later_checks() =>
        Assert.Equal(Verdict.Ready, Judge(99, Leader, Progress(1000, 0)));

    [Fact]
    public void A_voter_behind_is_refused_as_a_learner_behind_is() =>
        Assert.Equal(Verdict.NotReady, Judge(Follower, Leader, new Dictionary<ulong, ProgressStatus>
        {
            [Leader] = new(1000, 1001, ProgressState.Replicate),
            [Follower] = new(500, 501, ProgressState.Probe),
        }));

    [Fact]
    public void A_member_that_does_not_lead_has_no_progress_and_hands_the_promotion_on()
    {
        Assert.Equal(Verdict.NotLeader, Judge(Learner, Follower, new Dictionary<ulong, ProgressStatus>()));
        // Progress without this member's own entry is not a leader's either.
        Assert.Equal(Verdict.NotLeader, Judge(Learner, 3, Progress(1000, 1000)));
    }
}
