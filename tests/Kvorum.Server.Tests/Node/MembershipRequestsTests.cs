using Google.Protobuf;
using Grpc.Core;
using Kvorum.Raft;
using Kvorum.Etcd.Api;
using Kvorum.Server.Mvcc;
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

    [Theory]
    [InlineData(ConfChangeType.RemoveNode, Unknown, StatusCode.NotFound, "etcdserver: member not found")]
    [InlineData(ConfChangeType.AddVoter, Voter2, StatusCode.FailedPrecondition, "etcdserver: can only promote a learner member")]
    [InlineData(ConfChangeType.AddLearner, Learner3, StatusCode.FailedPrecondition, "etcdserver: member ID already exist")]
    [InlineData(ConfChangeType.AddLearner, Voter1, StatusCode.FailedPrecondition, "etcdserver: member ID already exist")]
    public void A_change_that_cannot_apply_is_refused_with_etcds_answer(ConfChangeType type, ulong node, StatusCode status, string message)
    {
        var refusal = MembershipRequests.Refusal(new ConfChange(type, node), Table(), Config);
        Assert.Equal(status, refusal?.StatusCode);
        Assert.Equal(message, refusal?.Message);
    }

    [Theory]
    [InlineData(ConfChangeType.RemoveNode, Voter2)]
    [InlineData(ConfChangeType.RemoveNode, Learner3)]
    [InlineData(ConfChangeType.AddVoter, Learner3)]
    [InlineData(ConfChangeType.AddVoter, Unknown)]
    [InlineData(ConfChangeType.AddLearner, Unknown)]
    public void A_change_that_can_apply_passes(ConfChangeType type, ulong node) =>
        Assert.Null(MembershipRequests.Refusal(new ConfChange(type, node), Table(), Config));

    [Fact]
    public void Removing_the_last_voter_is_refused_as_etcd_refuses_it()
    {
        var refusal = MembershipRequests.Refusal(new ConfChange(ConfChangeType.RemoveNode, Voter1), Table(), new ConfState([Voter1], [Learner3]));
        Assert.Equal(EtcdErrors.NotEnoughStartedMembers().Message, refusal?.Message);
        Assert.Equal(StatusCode.Unknown, refusal?.StatusCode);
    }

    [Fact]
    public void A_refused_change_is_not_proposed()
    {
        var requests = new MembershipRequests();
        var waiter = Waiter();
        var proposed = 0;
        requests.Propose(new ConfChange(ConfChangeType.RemoveNode, Unknown), waiter, Table(), Config, _ => { proposed++; return ProposeStatus.Accepted; });
        Assert.Equal(0, proposed);
        Assert.Equal("etcdserver: member not found", ErrorOf(waiter).Message);
        Assert.Equal(0, requests.Count);
    }

    [Theory]
    [InlineData(ProposeStatus.ConfChangePending, "etcdserver: unhealthy cluster: a membership change is in progress")]
    [InlineData(ProposeStatus.InvalidConfChange, "etcdserver: invalid membership change")]
    [InlineData(ProposeStatus.NotLeader, "etcdserver: no leader")]
    [InlineData(ProposeStatus.TransferInProgress, "etcdserver: no leader")]
    public void A_change_the_core_does_not_take_fails_saying_why(ProposeStatus status, string message)
    {
        var requests = new MembershipRequests();
        var waiter = Waiter();
        requests.Propose(new ConfChange(ConfChangeType.AddLearner, Unknown), waiter, Table(), Config, _ => status);
        Assert.Equal(message, ErrorOf(waiter).Message);
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
        var given = new ConfChange(ConfChangeType.AddLearner, Unknown);
        var kept = new ConfChange(ConfChangeType.RemoveNode, Voter2);
        var givenUp = Waiter();
        var waiting = Waiter();
        requests.Propose(given, givenUp, Table(), Config, _ => ProposeStatus.Accepted);
        requests.Propose(kept, waiting, Table(), Config, _ => ProposeStatus.Accepted);

        Assert.True(requests.Forget(given));
        Assert.False(requests.Forget(given));
        requests.FailAll(new EtcdException(StatusCode.Unavailable, "etcdserver: server stopped"));

        Assert.False(givenUp.Task.IsCompleted);
        Assert.Equal("etcdserver: server stopped", ErrorOf(waiting).Message);
        Assert.Equal(0, requests.Count);
    }

    [Fact]
    public void Only_the_loop_thread_changes_the_requests() =>
        LoopThread.AssertOnlyTheLoopMay(owner => new MembershipRequests(owner).Complete(new ConfChange(ConfChangeType.AddVoter, Voter1)));
}
