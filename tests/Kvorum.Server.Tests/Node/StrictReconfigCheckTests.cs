using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Raft;
using Kvorum.Server.Node;

namespace Kvorum.Server.Tests.Node;

/// <summary>
/// The arithmetic of etcd 3.4's strict reconfiguration check (<see cref="StrictReconfigCheck"/>), case by case as
/// etcd's <c>mayAddMember</c>, <c>mayRemoveMember</c> and <c>mayPromoteMember</c> decide them. Member 1 is asked.
/// </summary>
public sealed class StrictReconfigCheckTests
{
    private const ulong Self = 1, NewMember = 99;

    private static readonly TimeSpan Long = TimeSpan.FromMinutes(1);

    /// <summary>A cluster seen from member 1: its members, and how long member 1 has been connected to each.</summary>
    private sealed class Cluster
    {
        private readonly Dictionary<ulong, TimeSpan> _connected = [];

        public MemberTable Members { get; } = new();

        /// <summary>Adds voters (or learners), started and connected to member 1 for a minute.</summary>
        public Cluster With(bool learner, params ulong[] ids)
        {
            foreach (var id in ids)
            {
                Members.Apply(new ConfChange(learner ? ConfChangeType.AddLearner : ConfChangeType.AddVoter, id, new Member { Name = $"m{id}" }.ToByteArray()));
                _connected[id] = Long;
            }
            return this;
        }

        public Cluster Voters(params ulong[] ids) => With(false, ids);

        /// <summary>Member <paramref name="id"/>'s stream is down (it stopped).</summary>
        public Cluster Down(ulong id)
        {
            _connected.Remove(id);
            return this;
        }

        /// <summary>Member <paramref name="id"/>'s stream came up <paramref name="ago"/>.</summary>
        public Cluster UpFor(ulong id, TimeSpan ago)
        {
            _connected[id] = ago;
            return this;
        }

        /// <summary>Member <paramref name="id"/> was added and has not started: no name published, never connected.</summary>
        public Cluster NeverStarted(ulong id)
        {
            Members.Apply(new ConfChange(ConfChangeType.AddVoter, id, new Member().ToByteArray()));
            return this;
        }

        /// <summary>
        /// The check's answer to a change of <paramref name="node"/>: an AddVoter of a member is its promotion (no
        /// member record), any other add carries the new member's record, as the Cluster service sends them.
        /// </summary>
        public string? Answer(ConfChangeType type, ulong node)
        {
            var promotion = type == ConfChangeType.AddVoter && Members.TryGet(node, out _);
            var context = type == ConfChangeType.RemoveNode || promotion ? default : new Member { ID = node }.ToByteArray();
            return Ask(new ConfChange(type, node, context));
        }

        /// <summary>The check's answer to the promotion of <paramref name="node"/>, a member or not.</summary>
        public string? Promotion(ulong node) => Ask(new ConfChange(ConfChangeType.AddVoter, node));

        private string? Ask(ConfChange change) =>
            StrictReconfigCheck.Refusal(change, Members, Self, id => _connected.TryGetValue(id, out var t) ? t : null)?.Message;
    }

    private static readonly string Unhealthy = EtcdErrors.Unhealthy.Message;
    private static readonly string NotStarted = EtcdErrors.NotEnoughStartedMembers.Message;

    [Fact]
    public void A_healthy_cluster_takes_any_change()
    {
        var c = new Cluster().Voters(1, 2, 3).With(true, 4);
        Assert.Null(c.Answer(ConfChangeType.AddVoter, NewMember));
        Assert.Null(c.Answer(ConfChangeType.AddLearner, NewMember));
        Assert.Null(c.Answer(ConfChangeType.RemoveNode, 2));
        Assert.Null(c.Answer(ConfChangeType.RemoveNode, Self));
        Assert.Null(c.Answer(ConfChangeType.AddVoter, 4));
    }

    [Fact]
    public void Three_voters_with_one_active_refuse_an_add_voter_or_learner()
    {
        var c = new Cluster().Voters(1, 2, 3).Down(2).Down(3);
        Assert.Equal(Unhealthy, c.Answer(ConfChangeType.AddVoter, NewMember));
        Assert.Equal(Unhealthy, c.Answer(ConfChangeType.AddLearner, NewMember));
    }

    [Fact]
    public void An_add_needs_every_voter_connected_not_only_a_quorum()
    {
        // With 4 voters, 3 would be a quorum and 3 are up: etcd refuses all the same.
        var c = new Cluster().Voters(1, 2, 3).Down(3);
        Assert.Equal(Unhealthy, c.Answer(ConfChangeType.AddVoter, NewMember));
        Assert.Equal(Unhealthy, c.Answer(ConfChangeType.AddLearner, NewMember));
        var five = new Cluster().Voters(1, 2, 3, 4, 5).Down(4).Down(5);
        Assert.Equal(Unhealthy, five.Answer(ConfChangeType.AddVoter, NewMember));
    }

    [Fact]
    public void A_peer_counts_as_connected_only_after_more_than_the_health_interval()
    {
        var c = new Cluster().Voters(1, 2, 3).UpFor(3, TimeSpan.FromSeconds(2));
        Assert.Equal(Unhealthy, c.Answer(ConfChangeType.AddVoter, NewMember));
        c.UpFor(3, StrictReconfigCheck.HealthInterval);
        Assert.Equal(Unhealthy, c.Answer(ConfChangeType.AddVoter, NewMember));
        c.UpFor(3, StrictReconfigCheck.HealthInterval + TimeSpan.FromMilliseconds(1));
        Assert.Null(c.Answer(ConfChangeType.AddVoter, NewMember));
    }

    [Fact]
    public void A_dead_member_may_be_removed_however_few_are_active()
    {
        Assert.Null(new Cluster().Voters(1, 2, 3).Down(3).Answer(ConfChangeType.RemoveNode, 3));
        // etcd: "downed member is safe to remove since it's not part of the active quorum"; the proposal then waits for a leader.
        Assert.Null(new Cluster().Voters(1, 2, 3).Down(2).Down(3).Answer(ConfChangeType.RemoveNode, 3));
    }

    [Fact]
    public void Removing_a_live_member_must_leave_a_connected_quorum()
    {
        // 3 voters, 3 down: removing 2 would leave 1 and 3, with only 1 active.
        Assert.Equal(Unhealthy, new Cluster().Voters(1, 2, 3).Down(3).Answer(ConfChangeType.RemoveNode, 2));
        Assert.Equal(Unhealthy, new Cluster().Voters(1, 2, 3).Down(3).Answer(ConfChangeType.RemoveNode, Self));
        // A member connected for less than the interval counts as inactive, yet its removal still takes one off.
        Assert.Equal(Unhealthy, new Cluster().Voters(1, 2, 3).UpFor(3, TimeSpan.FromSeconds(1)).Answer(ConfChangeType.RemoveNode, 3));
    }

    [Fact]
    public void Five_voters_with_three_active()
    {
        var c = new Cluster().Voters(1, 2, 3, 4, 5).Down(4).Down(5);
        Assert.Equal(Unhealthy, c.Answer(ConfChangeType.AddVoter, NewMember));
        Assert.Equal(Unhealthy, c.Answer(ConfChangeType.RemoveNode, 2)); // 2 active of 4 left: a quorum is 3
        Assert.Null(c.Answer(ConfChangeType.RemoveNode, 5));
        Assert.Null(new Cluster().Voters(1, 2, 3, 4, 5).Down(5).Answer(ConfChangeType.RemoveNode, 2)); // 3 active of 4 left
    }

    [Fact]
    public void Learners_do_not_count_toward_the_quorum_and_are_removed_freely()
    {
        var c = new Cluster().Voters(1, 2, 3).With(true, 4).Down(4);
        Assert.Null(c.Answer(ConfChangeType.AddVoter, NewMember));
        Assert.Null(c.Answer(ConfChangeType.RemoveNode, 4));
        var cutOff = new Cluster().Voters(1, 2, 3).With(true, 4).Down(2).Down(3).Down(4);
        Assert.Null(cutOff.Answer(ConfChangeType.RemoveNode, 4));
    }

    [Fact]
    public void A_promotion_needs_a_quorum_of_started_voters_but_no_connection()
    {
        var c = new Cluster().Voters(1, 2, 3).With(true, 4).Down(2).Down(3);
        Assert.Null(c.Answer(ConfChangeType.AddVoter, 4));
        var unstarted = new Cluster().Voters(1).NeverStarted(2).NeverStarted(3).With(true, 4);
        Assert.Equal(NotStarted, unstarted.Answer(ConfChangeType.AddVoter, 4)); // 2 started (1 and the learner) of 4
        // etcd counts before it looks the member up (when it applies the change): an unknown id is counted the same.
        Assert.Equal(NotStarted, unstarted.Promotion(NewMember));
        Assert.Null(c.Promotion(NewMember));
    }

    [Fact]
    public void Voters_that_never_started_count_against_an_add_or_a_removal()
    {
        var c = new Cluster().Voters(1).NeverStarted(2);
        Assert.Equal(NotStarted, c.Answer(ConfChangeType.AddVoter, NewMember)); // 1 started of 3
        Assert.Equal(Unhealthy, c.Answer(ConfChangeType.AddLearner, NewMember)); // a learner skips the count, not the connections
        Assert.Equal(NotStarted, new Cluster().Voters(1, 3).NeverStarted(2).Answer(ConfChangeType.RemoveNode, 3)); // 1 started of 2 left
    }

    [Fact]
    public void A_lone_voter_may_always_take_a_second()
    {
        Assert.Null(new Cluster().Voters(1).Answer(ConfChangeType.AddVoter, NewMember));
        Assert.Null(new Cluster().Voters(1).Answer(ConfChangeType.AddLearner, NewMember));
    }
}
