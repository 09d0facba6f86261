using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Fuzz.Targets;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node;
using Kvorum.Tests.Fuzzing;

namespace Kvorum.Server.Tests.Fuzz;

/// <summary>Random and damaged state-machine snapshots (<see cref="NodeSnapshotTarget"/>).</summary>
public class NodeSnapshotFuzzTests
{
    [Fact]
    public void Random_and_damaged_snapshots_are_read_or_refused_as_malformed()
    {
        FuzzRun.Check(NodeSnapshotTarget.Seeds(), NodeSnapshotTarget.Run, GetType());
    }

    [Fact]
    public void A_key_length_far_beyond_the_snapshot_is_refused_without_allocating_it()
    {
        // Found by the random-bytes test: a 40-byte snapshot whose first key claims 167 MB made the reader allocate it
        // before finding the stream short.
        var input = Convert.FromHexString("4B564E53010218014B564D564343010100000000000000FFFFFFFFFFB8509D4E84D4E14F737CFF7F");
        Assert.Null(FuzzRun.RunOne(input, NodeSnapshotTarget.Run, allocationPerByte: 64));
        Assert.Throws<InvalidDataException>(() => NodeSnapshotFormat.Read(new MemoryStream(input), new MvccStore()));
    }

    [Fact]
    public void A_value_longer_than_one_read_piece_round_trips()
    {
        var store = new MvccStore();
        var value = new byte[(3 << 20) + 5];
        new Random(7).NextBytes(value);
        store.Put(new PutRequest { Key = ByteString.CopyFromUtf8("big"), Value = ByteString.CopyFrom(value) });
        using var snapshot = new MemoryStream();
        NodeSnapshotFormat.Write(snapshot, FrozenStore.Of(store), [], 1, default);
        var again = new MvccStore();
        NodeSnapshotFormat.Read(new MemoryStream(snapshot.ToArray()), again);
        var kv = Assert.Single(again.Range(new RangeRequest { Key = ByteString.CopyFromUtf8("big") }).Kvs);
        Assert.Equal(value, kv.Value.ToByteArray());
    }

    [Fact]
    public void Every_valid_snapshot_reads_and_writes_back_to_its_bytes()
    {
        foreach (var seed in NodeSnapshotTarget.Seeds())
        {
            var store = new MvccStore();
            var header = NodeSnapshotFormat.Read(new MemoryStream(seed), store);
            using var again = new MemoryStream();
            NodeSnapshotFormat.Write(again, FrozenStore.Of(store), header.Members, header.Members.Count == 0 ? 1UL : 42UL, header.Position, header.Leases);
            Assert.Equal(seed, again.ToArray());
        }
    }
}
