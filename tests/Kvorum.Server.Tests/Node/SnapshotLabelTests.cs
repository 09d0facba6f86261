using Google.Protobuf;
using Kvorum.Raft;
using Kvorum.Etcd.Api;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node;

namespace Kvorum.Server.Tests.Node;

/// <summary>
/// A snapshot from a leader is installed only if the state inside was taken at the index and term its Raft metadata
/// names (issue 19, finding 2): installed under an older label, the entries after that label would be applied again
/// on top of a state that already holds them, and the member's revisions would part from its peers' for good.
/// </summary>
public sealed class SnapshotLabelTests : IAsyncDisposable
{
    private readonly LoneFollower _member = new();

    private KvorumNode Joiner => _member.Node;

    private ulong LeaderId => _member.LeaderId;

    public ValueTask DisposeAsync() => _member.DisposeAsync();

    private (Message Message, byte[] Data) Snapshot(ulong labelIndex, AppliedPosition inside)
    {
        var store = new MvccStore();
        for (var i = 0; i < 20; i++)
            store.Put(new PutRequest { Key = ByteString.CopyFromUtf8($"k{i}"), Value = ByteString.CopyFromUtf8($"v{i}") });
        Member[] members =
        [
            new() { ID = LeaderId, Name = "m1", PeerURLs = { "http://m1.invalid:2380" } },
            new() { ID = Joiner.MemberId, Name = "m2", PeerURLs = { "http://m2.invalid:2380" } },
        ];
        using var bytes = new MemoryStream();
        NodeSnapshotFormat.Write(bytes, FrozenStore.Of(store), members, Joiner.ClusterId, inside);
        var meta = new SnapshotMetadata(labelIndex, 2, ConfState.OfVoters(LeaderId, Joiner.MemberId));
        var message = new Message { Type = MessageType.Snapshot, From = LeaderId, To = Joiner.MemberId, Term = 2, Snapshot = meta };
        return (message, bytes.ToArray());
    }

    private void Deliver((Message Message, byte[] Data) snapshot)
    {
        var stream = Joiner.BeginSnapshot(snapshot.Message);
        // In chunks, as the transport writes them, so the header arrives in pieces.
        for (var at = 0; at < snapshot.Data.Length; at += 7)
            stream.Write(snapshot.Data.AsSpan(at, Math.Min(7, snapshot.Data.Length - at)));
        Joiner.OnSnapshot(snapshot.Message, stream);
    }

    [Fact]
    public async Task A_snapshot_whose_state_was_taken_at_a_later_index_than_its_label_is_refused()
    {
        Deliver(Snapshot(labelIndex: 10, inside: new AppliedPosition(12, 2)));
        await Task.Delay(300);
        Assert.Equal(1, Interlocked.Read(ref Joiner.Metrics.SnapshotsRefused));
        Assert.Equal(0UL, Joiner.Status.Applied);
        Assert.Equal(1L, Joiner.Status.Revision); // an empty store, as etcd's starts at revision 1

        // The same state under its own label goes in.
        Deliver(Snapshot(labelIndex: 12, inside: new AppliedPosition(12, 2)));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (Joiner.Status.Applied != 12)
            await Task.Delay(10, timeout.Token);
        Assert.Equal(21L, Joiner.Status.Revision);
        Assert.Equal(1, Interlocked.Read(ref Joiner.Metrics.SnapshotsRefused));
    }

    [Fact]
    public async Task A_snapshot_with_a_term_other_than_its_label_is_refused()
    {
        Deliver(Snapshot(labelIndex: 12, inside: new AppliedPosition(12, 1)));
        await Task.Delay(300);
        Assert.Equal(1, Interlocked.Read(ref Joiner.Metrics.SnapshotsRefused));
        Assert.Equal(0UL, Joiner.Status.Applied);
    }
}
