using Google.Protobuf;
using Kvorum.Raft;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Node;

namespace Kvorum.Server.Tests.Node;

/// <summary>Membership changes asked of a member (<see cref="MembershipRequests"/>): their checks, with etcd's answers, and their waiters.</summary>
public sealed class MembershipRequestsTests
{
    private const ulong Voter1 = 1, Voter2 = 2, Learner3 = 3, Unknown = 9;

    private static MemberTable Table()
    {
        var table = new MemberTable();
        foreach (var (id, learner) in new[] { (Voter1, false), (Voter2, false), (Learner3, true) })
            table.Apply(new ConfChange(learner ? ConfChangeType.AddLearner : ConfChangeType.AddVoter, id, new Member { Name = $"m{id}" }.ToByteArray()));
        return table;
    }

    private static readonly ConfState Config = new([Voter1, Voter2], [Learner3]);

    private static TaskCompletionSource<object> Waiter() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static EtcdException ErrorOf(TaskCompletionSource<object> waiter) =>
        Assert.IsType<EtcdException>(Assert.Single(waiter.Task.Exception!.InnerExceptions));

    /// <summary>An add of member <paramref name="id"/> at <paramref name="url"/>, with its record, as the Cluster service sends it.</summary>
    private static ConfChange Add(ulong id, string url, bool learner = false) =>
        new(learner ? ConfChangeType.AddLearner : ConfChangeType.AddVoter, id, new Member { ID = id, PeerURLs = { url }, IsLearner = learner }.ToByteArray());

    private static MemberTable TableWithUrls()
    {
        var table = new MemberTable();
        table.Apply(Add(Voter1, "http://m1"));
        table.Apply(Add(Voter2, "http://m2"));
        table.Apply(Add(Learner3, "http://m3", learner: true));
        return table;
    }

    public static TheoryData<ConfChangeType, ulong, string> Refusals => new()
    {
        { ConfChangeType.RemoveNode, Unknown, EtcdErrors.MemberNotFound.Message },
        { ConfChangeType.AddVoter, Voter2, EtcdErrors.CanOnlyPromoteLearner.Message },
        { ConfChangeType.AddVoter, Unknown, EtcdErrors.MemberNotFound.Message },
        { ConfChangeType.AddLearner, Learner3, EtcdErrors.MemberIdAlreadyExists.Message },
        { ConfChangeType.AddLearner, Voter1, EtcdErrors.MemberIdAlreadyExists.Message },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void A_change_that_cannot_apply_is_refused_with_etcds_answer(ConfChangeType type, ulong node, string expected)
    {
        var refusal = MembershipRequests.Refusal(new ConfChange(type, node), Table(), Config);
        Assert.Equal(expected, refusal?.Error.Message);
    }

    [Theory]
    [InlineData(ConfChangeType.RemoveNode, Voter2)]
    [InlineData(ConfChangeType.RemoveNode, Learner3)]
    [InlineData(ConfChangeType.AddVoter, Learner3)]
    public void A_change_that_can_apply_passes(ConfChangeType type, ulong node) =>
        Assert.Null(MembershipRequests.Refusal(new ConfChange(type, node), Table(), Config));

    [Fact]
    public void An_add_of_a_new_member_passes_unless_it_is_a_learner_over_the_limit()
    {
        Assert.Null(MembershipRequests.Refusal(Add(Unknown, "http://m9"), TableWithUrls(), Config));
        Assert.Equal(EtcdErrors.TooManyLearners, MembershipRequests.Refusal(Add(Unknown, "http://m9", learner: true), TableWithUrls(), Config)?.Error);
        var noLearner = new MemberTable();
        noLearner.Apply(Add(Voter1, "http://m1"));
        Assert.Null(MembershipRequests.Refusal(Add(Unknown, "http://m9", learner: true), noLearner, new ConfState([Voter1], [])));
    }

    /// <summary>An add wrong on several counts gets the answer etcd's <c>ValidateConfigurationChange</c> gives first.</summary>
    public static TheoryData<string, ConfChange, string> AddsWrongTwice => new()
    {
        // A peer URL taken and too many learners: the URL (etcd checks the learners last).
        { "learner at a taken URL", Add(Unknown, "http://m1", learner: true), EtcdErrors.PeerUrlExists.Message },
        // A peer URL taken and the id taken: the URL (Kvorum's id is the URLs' hash; see Refusal).
        { "voter at its own URL", Add(Voter2, "http://m2"), EtcdErrors.PeerUrlExists.Message },
        // The id taken and too many learners: the id.
        { "learner with a member's id", Add(Learner3, "http://m9", learner: true), EtcdErrors.MemberIdAlreadyExists.Message },
    };

    [Theory]
    [MemberData(nameof(AddsWrongTwice))]
    public void An_add_wrong_on_two_counts_gets_etcds_first_answer(string what, ConfChange change, string expected)
    {
        Assert.NotNull(what);
        Assert.Equal(expected, MembershipRequests.Refusal(change, TableWithUrls(), Config)?.Error.Message);
    }

    [Fact]
    public void Removing_the_last_voter_is_refused_as_etcd_refuses_it()
    {
        var refusal = MembershipRequests.Refusal(new ConfChange(ConfChangeType.RemoveNode, Voter1), Table(), new ConfState([Voter1], [Learner3]));
        Assert.Equal(EtcdErrors.NotEnoughStartedMembers, refusal?.Error);
    }

    [Fact]
    public void A_refused_change_is_not_proposed()
    {
        var requests = new MembershipRequests();
        var waiter = Waiter();
        var proposed = 0;
        requests.Propose(new ConfChange(ConfChangeType.RemoveNode, Unknown), waiter, Table(), Config, _ => { proposed++; return ProposeStatus.Accepted; });
        Assert.Equal(0, proposed);
        Assert.Equal(EtcdErrors.MemberNotFound, ErrorOf(waiter).Error);
        Assert.Equal(0, requests.Count);
    }

    public static TheoryData<ProposeStatus, string> CoreRefusals => new()
    {
        { ProposeStatus.ConfChangePending, EtcdErrors.MembershipChangeInProgress.Message },
        { ProposeStatus.InvalidConfChange, EtcdErrors.InvalidMembershipChange.Message },
        { ProposeStatus.TransferInProgress, EtcdErrors.NoLeader.Message },
    };

    [Theory]
    [MemberData(nameof(CoreRefusals))]
    public void A_change_the_core_does_not_take_fails_saying_why(ProposeStatus status, string expected)
    {
        var requests = new MembershipRequests();
        var waiter = Waiter();
        requests.Propose(Add(Unknown, "http://m9"), waiter, Table(), Config, _ => status);
        Assert.Equal(expected, ErrorOf(waiter).Error.Message);
        Assert.Equal(0, requests.Count);
    }

    [Theory]
    [InlineData(ProposeStatus.Accepted)]
    [InlineData(ProposeStatus.Forwarded)]
    public async Task A_change_taken_waits_until_that_change_of_that_member_is_applied(ProposeStatus status)
    {
        var requests = new MembershipRequests();
        var waiter = Waiter();
        var change = new ConfChange(ConfChangeType.AddVoter, Learner3);
        requests.Propose(change, waiter, Table(), Config, _ => status);
        Assert.Equal(1, requests.Count);

        requests.Complete(new ConfChange(ConfChangeType.RemoveNode, Learner3)); // another change of that member
        requests.Complete(new ConfChange(ConfChangeType.AddVoter, Voter2)); // that change of another member
        Assert.False(waiter.Task.IsCompleted);
        requests.Complete(change);
        Assert.Equal(change, await waiter.Task);
        Assert.Equal(0, requests.Count);
    }

    [Fact]
    public void A_change_given_up_on_is_forgotten_and_stopping_fails_the_rest()
    {
        var requests = new MembershipRequests();
        var given = Add(Unknown, "http://m9");
        var kept = new ConfChange(ConfChangeType.RemoveNode, Voter2);
        var givenUp = Waiter();
        var waiting = Waiter();
        requests.Propose(given, givenUp, Table(), Config, _ => ProposeStatus.Accepted);
        requests.Propose(kept, waiting, Table(), Config, _ => ProposeStatus.Accepted);

        Assert.True(requests.Forget(given));
        Assert.False(requests.Forget(given));
        requests.FailAll(new EtcdException(EtcdErrors.ServerStopped));

        Assert.False(givenUp.Task.IsCompleted);
        Assert.Equal(EtcdErrors.ServerStopped, ErrorOf(waiting).Error);
        Assert.Equal(0, requests.Count);
    }

    [Fact]
    public void Only_the_loop_thread_changes_the_requests() =>
        LoopThread.AssertOnlyTheLoopMay(owner => new MembershipRequests(owner: owner).Complete(new ConfChange(ConfChangeType.AddVoter, Voter1)));

    [Fact]
    public void A_change_asked_without_a_leader_waits_for_one_and_is_proposed_when_one_is_known()
    {
        var requests = new MembershipRequests(timeout: 100);
        var waiter = Waiter();
        var change = Add(Unknown, "http://m9");
        requests.Propose(change, waiter, Table(), Config, _ => ProposeStatus.NotLeader, now: 10);
        Assert.Equal((0, 1), (requests.Count, requests.AwaitingLeaderCount));
        requests.Expire(now: 109);
        requests.ProposeAwaiting(Table(), Config, _ => ProposeStatus.NotLeader); // still none: it waits on
        Assert.False(waiter.Task.IsCompleted);

        var proposed = new List<ConfChange>();
        requests.ProposeAwaiting(Table(), Config, c => { proposed.Add(c); return ProposeStatus.Accepted; });
        Assert.Equal([change], proposed);
        Assert.Equal((1, 0), (requests.Count, requests.AwaitingLeaderCount));
        requests.Complete(change);
        Assert.True(waiter.Task.IsCompletedSuccessfully);
    }

    [Fact]
    public void A_change_without_a_leader_at_the_timeout_fails_with_request_timed_out_and_one_given_up_on_is_never_proposed()
    {
        var requests = new MembershipRequests(timeout: 100);
        var timingOut = Waiter();
        var givenUp = Waiter();
        requests.Propose(Add(Unknown, "http://m9"), timingOut, Table(), Config, _ => ProposeStatus.NotLeader, now: 10);
        var abandoned = new ConfChange(ConfChangeType.RemoveNode, Voter2);
        requests.Propose(abandoned, givenUp, Table(), Config, _ => ProposeStatus.NotLeader, now: 50);
        Assert.True(requests.Forget(abandoned));

        requests.Expire(now: 110);
        Assert.Equal(EtcdErrors.TimedOut, ErrorOf(timingOut).Error);
        var proposed = 0;
        requests.ProposeAwaiting(Table(), Config, _ => { proposed++; return ProposeStatus.Accepted; });
        Assert.Equal((0, 0, 0), (proposed, requests.Count, requests.AwaitingLeaderCount));
    }
}
