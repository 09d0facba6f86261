using Google.Protobuf;
using Kvorum.Raft;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Tests.Node;

/// <summary>A member's state machine (<see cref="StateMachine"/>): entries applied once, in order, and snapshots of it.</summary>
public sealed class StateMachineTests
{
    private static byte[] Payload(InternalRequest request) => request.ToByteArray();

    private static InternalRequest Put(ulong id, string key, string value) =>
        new() { Id = id, Put = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) } };

    private static string Get(StateMachine state, string key) =>
        state.Store.Range(new RangeRequest { Key = ByteString.CopyFromUtf8(key) }).Kvs.Single().Value.ToStringUtf8();

    [Fact]
    public void Each_entry_applies_once_in_log_order()
    {
        var state = new StateMachine();
        Assert.True(state.Advance(1, 1));
        Assert.True(state.Advance(2, 1));
        Assert.False(state.Advance(2, 1));
        Assert.False(state.Advance(1, 1));
        Assert.True(state.Advance(5, 2));
        Assert.Equal((5UL, 2UL), (state.AppliedIndex, state.AppliedTerm));
    }

    [Fact]
    public void A_write_is_applied_and_its_response_returned_with_its_request_id()
    {
        var state = new StateMachine();
        var (request, result) = state.ApplyRequest(Payload(Put(42, "k", "v")));
        Assert.Equal(42UL, request.Id);
        Assert.Equal(2, Assert.IsType<PutResponse>(result).Header.Revision);
        Assert.Equal("v", Get(state, "k"));
    }

    [Fact]
    public void A_request_that_fails_returns_its_etcd_error_and_the_state_goes_on()
    {
        var state = new StateMachine();
        var (_, compacted) = state.ApplyRequest(Payload(new InternalRequest { Id = 1, Compaction = new CompactionRequest { Revision = 10 } }));
        Assert.Equal(EtcdErrors.FutureRevision, Assert.IsType<EtcdException>(compacted).Error);

        var (_, unknownMember) = state.ApplyRequest(Payload(new InternalRequest { Id = 2, Attributes = new MemberAttributes { Id = 5, Name = "x" } }));
        var notFound = Assert.IsType<EtcdException>(unknownMember);
        Assert.Equal(EtcdErrors.MemberNotFound, notFound.Error);

        var (_, unknown) = state.ApplyRequest(Payload(new InternalRequest { Id = 3 }));
        var error = Assert.IsType<EtcdException>(unknown);
        Assert.Equal(EtcdErrors.UnknownRequest, error.Error);

        state.ApplyRequest(Payload(Put(4, "k", "v")));
        Assert.Equal("v", Get(state, "k"));
    }

    [Fact]
    public void A_put_names_no_lease_that_exists()
    {
        var state = new StateMachine();
        var put = Put(1, "k", "v");
        put.Put.Lease = 7;
        var (_, result) = state.ApplyRequest(Payload(put));
        Assert.Equal(EtcdErrors.LeaseNotFound, Assert.IsType<EtcdException>(result).Error);
    }

    [Fact]
    public void A_snapshot_restores_the_store_the_members_and_the_position_it_was_taken_at()
    {
        var state = new StateMachine();
        state.Members.Apply(new ConfChange(ConfChangeType.AddVoter, 3, new Member { Name = "m3" }.ToByteArray()));
        state.Advance(8, 2);
        state.ApplyRequest(Payload(Put(1, "k", "v")));
        using var snapshot = new MemoryStream();
        state.Capture(clusterId: 77)(snapshot);
        state.ApplyRequest(Payload(Put(2, "k", "later"))); // after the capture: not in it

        var restored = new StateMachine();
        restored.Members.Apply(new ConfChange(ConfChangeType.AddVoter, 4)); // replaced
        snapshot.Position = 0;
        restored.Restore(snapshot, new AppliedPosition(8, 2), "the test's snapshot");

        Assert.Equal((8UL, 2UL), (restored.AppliedIndex, restored.AppliedTerm));
        Assert.Equal("v", Get(restored, "k"));
        Assert.Equal(["m3"], restored.Members.All.Select(m => m.Name));
    }

    [Fact]
    public void A_snapshot_of_another_position_than_expected_is_refused()
    {
        var state = new StateMachine();
        state.Advance(8, 2);
        using var snapshot = new MemoryStream();
        state.Capture(77)(snapshot);
        snapshot.Position = 0;

        var error = Assert.Throws<InvalidDataException>(() => new StateMachine().Restore(snapshot, new AppliedPosition(9, 2), "the test's snapshot"));
        Assert.Contains("the test's snapshot", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_the_loop_thread_applies() =>
        LoopThread.AssertOnlyTheLoopMay(owner => new StateMachine(owner).Advance(1, 1));
}
