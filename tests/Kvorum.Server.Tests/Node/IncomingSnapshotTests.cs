using Kvorum.Raft;
using Kvorum.Server.Node;

namespace Kvorum.Server.Tests.Node;

/// <summary>Why a leader's snapshot, once arrived, is refused (<see cref="IncomingSnapshot.Refusal"/>).</summary>
public sealed class IncomingSnapshotTests
{
    private static SnapshotMetadata Label(ulong index, ulong term) => new(index, term, ConfState.OfVoters(1));

    private static IncomingSnapshot Arrived(TemporaryStorage storage, ulong index, AppliedPosition? inside)
    {
        var incoming = new IncomingSnapshot(storage.Receive(index));
        if (inside is { } position)
        {
            var state = new StateMachine();
            state.Advance(position.Index, position.Term);
            state.Capture(clusterId: 1)(incoming);
        }
        return incoming;
    }

    [Fact]
    public void A_snapshot_holding_the_state_its_label_names_is_taken()
    {
        using var storage = new TemporaryStorage();
        using var incoming = Arrived(storage, 12, new AppliedPosition(12, 2));
        Assert.Null(incoming.Refusal(Label(12, 2), from: 0xab));
    }

    [Fact]
    public void A_snapshot_holding_another_state_than_its_label_names_is_refused_saying_both()
    {
        using var storage = new TemporaryStorage();
        using var incoming = Arrived(storage, 10, new AppliedPosition(12, 2));
        var refusal = incoming.Refusal(Label(10, 2), from: 0xab);
        Assert.StartsWith("snapshot 10 from ab holds the state at index 12 (term 2) but is labelled index 10 (term 2)", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void A_snapshot_that_ended_before_its_header_is_refused()
    {
        using var storage = new TemporaryStorage();
        using var incoming = Arrived(storage, 10, inside: null);
        Assert.Equal("the snapshot ended before its header", incoming.Refusal(Label(10, 2), from: 1));
    }

    [Fact]
    public void A_snapshot_whose_header_is_not_ours_is_refused_with_what_is_wrong()
    {
        using var storage = new TemporaryStorage();
        using var incoming = new IncomingSnapshot(storage.Receive(10));
        incoming.Write("KVNS\u0009 not a header"u8);
        Assert.Equal(incoming.Malformed, incoming.Refusal(Label(10, 2), from: 1));
        Assert.NotNull(incoming.Malformed);
    }
}
