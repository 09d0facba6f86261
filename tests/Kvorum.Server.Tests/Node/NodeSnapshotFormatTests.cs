using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Server.Tests.Node;

/// <summary>The state-machine snapshot as streamed to a file, and the older whole-message form still read.</summary>
public class NodeSnapshotFormatTests
{
    private static MvccStore Store()
    {
        var store = new MvccStore();
        for (var i = 0; i < 200; i++)
            store.Put(new PutRequest { Key = ByteString.CopyFromUtf8($"k{i % 50:D3}"), Value = ByteString.CopyFromUtf8($"v{i}") });
        store.DeleteRange(new DeleteRangeRequest { Key = ByteString.CopyFromUtf8("k007") });
        return store;
    }

    private static Member[] Members() =>
    [
        new() { ID = 1, Name = "m1", PeerURLs = { "http://127.0.0.1:2380" } },
        new() { ID = 2, Name = "m2", PeerURLs = { "http://127.0.0.1:22380" }, IsLearner = true },
    ];

    [Fact]
    public void A_streamed_snapshot_restores_the_same_store_and_members()
    {
        var store = Store();
        using var file = new MemoryStream();
        NodeSnapshotFormat.Write(file, FrozenStore.Of(store), Members(), clusterId: 77, new AppliedPosition(240, 3));
        // Later writes do not reach a frozen store's snapshot.
        var frozen = FrozenStore.Of(store);
        store.Put(new PutRequest { Key = ByteString.CopyFromUtf8("late"), Value = ByteString.CopyFromUtf8("x") });
        using var second = new MemoryStream();
        NodeSnapshotFormat.Write(second, frozen, Members(), clusterId: 77, new AppliedPosition(240, 3));
        Assert.Equal(file.ToArray(), second.ToArray());

        file.Position = 0;
        var restored = new MvccStore();
        var (members, position) = NodeSnapshotFormat.Read(file, restored);

        Assert.Equal(Members(), members);
        Assert.Equal(new AppliedPosition(240, 3), position);
        Assert.Equal(store.Revision - 1, restored.Revision);
        Assert.Equal(Store().ToSnapshot(), restored.ToSnapshot()); // the store as it was, without "late"
    }

    [Fact]
    public void The_older_whole_message_form_is_still_read()
    {
        var store = Store();
        var old = new NodeSnapshot { Mvcc = ByteString.CopyFrom(store.ToSnapshot()), ClusterId = 77 };
        old.Members.AddRange(Members());
        using var file = new MemoryStream(old.ToByteArray());

        var restored = new MvccStore();
        var (members, position) = NodeSnapshotFormat.Read(file, restored);

        Assert.Equal(Members(), members);
        Assert.True(position.IsUnknown);
        Assert.Equal(store.ToSnapshot(), restored.ToSnapshot());
    }

    [Fact]
    public void A_truncated_snapshot_is_refused()
    {
        using var file = new MemoryStream();
        NodeSnapshotFormat.Write(file, FrozenStore.Of(Store()), Members(), clusterId: 77, new AppliedPosition(240, 3));
        using var cut = new MemoryStream(file.ToArray()[..(int)(file.Length - 10)]);
        Assert.Throws<InvalidDataException>(() => NodeSnapshotFormat.Read(cut, new MvccStore()));
    }

    [Fact]
    public void The_position_is_read_from_the_first_bytes_once_the_header_is_whole()
    {
        using var file = new MemoryStream();
        NodeSnapshotFormat.Write(file, FrozenStore.Of(Store()), Members(), clusterId: 77, new AppliedPosition(240, 3));
        var bytes = file.ToArray();
        var headerEnd = 0;
        for (var n = 0; n <= bytes.Length; n++)
        {
            if (NodeSnapshotFormat.TryReadPosition(bytes.AsSpan(0, n), out var position))
            {
                Assert.Equal(new AppliedPosition(240, 3), position);
                headerEnd = n;
                break;
            }
        }
        Assert.True(headerEnd > 5 && headerEnd < 200, $"the header was read after {headerEnd} bytes");
    }

    [Fact]
    public void The_older_form_reads_as_an_unknown_position_and_an_unknown_format_is_refused()
    {
        var old = new NodeSnapshot { ClusterId = 77 }.ToByteArray();
        Assert.True(NodeSnapshotFormat.TryReadPosition([.. "\n\u0001x"u8, .. old, 0, 0, 0], out var position));
        Assert.True(position.IsUnknown);
        Assert.Throws<InvalidDataException>(() => NodeSnapshotFormat.TryReadPosition("KVNS\u0009rest"u8, out _));
    }

    [Fact]
    public void A_snapshot_labelled_with_another_position_is_refused_and_one_without_a_position_is_taken_on_trust()
    {
        var at = new AppliedPosition(240, 3);
        NodeSnapshotFormat.CheckPosition(at, at, "snapshot");
        NodeSnapshotFormat.CheckPosition(default, at, "snapshot");
        var e = Assert.Throws<InvalidDataException>(() => NodeSnapshotFormat.CheckPosition(new AppliedPosition(300, 3), at, "snapshot 240"));
        Assert.Contains("index 300", e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => NodeSnapshotFormat.CheckPosition(new AppliedPosition(240, 2), at, "snapshot 240"));
    }
}
