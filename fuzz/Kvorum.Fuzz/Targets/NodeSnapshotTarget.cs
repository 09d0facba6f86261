using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node;
using Kvorum.Server.Node.Wire;

namespace Kvorum.Fuzz.Targets;

/// <summary>
/// A state-machine snapshot, as a member installs one it was sent (<see cref="NodeSnapshotFormat"/>,
/// <see cref="MvccSnapshot"/>): any bytes are read, or refused with <see cref="InvalidDataException"/>,
/// <see cref="InvalidProtocolBufferException"/> or <see cref="EndOfStreamException"/> (what the backup reader and the
/// snapshot installer turn into their own refusal); the position check on a prefix throws only
/// <see cref="InvalidDataException"/>. A snapshot that was read writes out again to bytes that read the same.
/// </summary>
internal static class NodeSnapshotTarget
{
    /// <summary>Checks <paramref name="input"/>.</summary>
    public static void Run(byte[] input)
    {
        try
        {
            NodeSnapshotFormat.TryReadPosition(input, out _);
        }
        catch (InvalidDataException)
        {
            // The documented refusal.
        }
        var store = new MvccStore();
        NodeSnapshotHeader header;
        try
        {
            header = NodeSnapshotFormat.Read(new MemoryStream(input, writable: false), store);
        }
        catch (Exception e) when (e is InvalidDataException or InvalidProtocolBufferException or EndOfStreamException)
        {
            return;
        }
        var once = Write(store, header);
        var again = new MvccStore();
        var twice = Write(again, NodeSnapshotFormat.Read(new MemoryStream(once, writable: false), again));
        DecoderPropertyException.ThrowIfDifferent(once, twice, "state-machine snapshot");
    }

    private static byte[] Write(MvccStore store, NodeSnapshotHeader header)
    {
        using var buffer = new MemoryStream();
        NodeSnapshotFormat.Write(buffer, FrozenStore.Of(store), header.Members, 42, header.Position, header.Leases);
        return buffer.ToArray();
    }

    /// <summary>Snapshots of a store with a few keys, deletes and a lease.</summary>
    public static IReadOnlyList<byte[]> Seeds()
    {
        var store = new MvccStore();
        store.Put(new PutRequest { Key = ByteString.CopyFromUtf8("a"), Value = ByteString.CopyFromUtf8("1") });
        store.Put(new PutRequest { Key = ByteString.CopyFromUtf8("b"), Value = ByteString.CopyFromUtf8("2") });
        store.Put(new PutRequest { Key = ByteString.CopyFromUtf8("a"), Value = ByteString.CopyFromUtf8("3") });
        store.DeleteRange(new DeleteRangeRequest { Key = ByteString.CopyFromUtf8("b") });
        var members = new[] { new Member { ID = 1, Name = "one", PeerURLs = { "http://127.0.0.1:2380" } } };
        using var full = new MemoryStream();
        NodeSnapshotFormat.Write(full, FrozenStore.Of(store), members, 42, new AppliedPosition(7, 2), [new LeaseRecord { Id = 9, Ttl = 60 }]);
        using var empty = new MemoryStream();
        NodeSnapshotFormat.Write(empty, FrozenStore.Of(new MvccStore()), [], 1, default);
        return [full.ToArray(), empty.ToArray()];
    }
}
