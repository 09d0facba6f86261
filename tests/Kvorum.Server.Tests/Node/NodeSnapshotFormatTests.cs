using Google.Protobuf;
using Kvorum.Server.Etcd;
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
        NodeSnapshotFormat.Write(file, FrozenStore.Of(store), Members(), clusterId: 77);
        // Later writes do not reach a frozen store's snapshot.
        var frozen = FrozenStore.Of(store);
        store.Put(new PutRequest { Key = ByteString.CopyFromUtf8("late"), Value = ByteString.CopyFromUtf8("x") });
        using var second = new MemoryStream();
        NodeSnapshotFormat.Write(second, frozen, Members(), clusterId: 77);
        Assert.Equal(file.ToArray(), second.ToArray());

        file.Position = 0;
        var restored = new MvccStore();
        var members = NodeSnapshotFormat.Read(file, restored);

        Assert.Equal(Members(), members);
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
        var members = NodeSnapshotFormat.Read(file, restored);

        Assert.Equal(Members(), members);
        Assert.Equal(store.ToSnapshot(), restored.ToSnapshot());
    }

    [Fact]
    public void A_truncated_snapshot_is_refused()
    {
        using var file = new MemoryStream();
        NodeSnapshotFormat.Write(file, FrozenStore.Of(Store()), Members(), clusterId: 77);
        using var cut = new MemoryStream(file.ToArray()[..(int)(file.Length - 10)]);
        Assert.Throws<InvalidDataException>(() => NodeSnapshotFormat.Read(cut, new MvccStore()));
    }
}
