using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Mvcc;
using static Kvorum.Server.Tests.Mvcc.StoreOps;

namespace Kvorum.Server.Tests.Mvcc;

/// <summary>Snapshots carry the whole store and are byte-for-byte deterministic.</summary>
public class SnapshotTests
{
    private static void ApplySample(MvccStore store)
    {
        store.Put("a", "1", lease: 3);
        store.Put("b", "2");
        store.Put("a", "11", lease: 4);
        store.Delete("b");
        store.Txn(new TxnRequest { Success = { PutOp("c", "3"), PutOp("d", "4") } });
        store.Compact(new CompactionRequest { Revision = 4 });
        store.Put("b", "again");
    }

    [Fact]
    public void Two_stores_applying_the_same_requests_write_identical_snapshots()
    {
        var first = new MvccStore();
        var second = new MvccStore();
        ApplySample(first);
        ApplySample(second);

        Assert.Equal(first.ToSnapshot(), second.ToSnapshot());
    }

    [Fact]
    public void Restore_brings_back_revisions_history_compaction_and_leases()
    {
        var original = new MvccStore();
        ApplySample(original);
        var snapshot = original.ToSnapshot();

        var restored = new MvccStore();
        restored.Put("junk", "to be replaced");
        restored.RestoreSnapshot(snapshot);

        Assert.Equal(snapshot, restored.ToSnapshot());
        Assert.Equal(original.Revision, restored.Revision);
        Assert.Equal(4, restored.CompactRevision);
        Assert.Null(restored.Get("junk"));
        Assert.Equal("11", S(restored.Get("a", revision: 4)!.Value));
        Assert.Equal("2", S(restored.Get("b", revision: 4)!.Value));
        Assert.Null(restored.Get("b", revision: 5));
        Assert.Equal("again", S(restored.Get("b")!.Value));
        Assert.Equal(["a"], restored.Leases.KeysOf(4).Select(S));
        Assert.Empty(restored.Leases.KeysOf(3));
        Assert.Throws<EtcdException>(() => restored.Get("a", revision: 3));

        // Both continue identically.
        original.Put("z", "after");
        restored.Put("z", "after");
        Assert.Equal(original.ToSnapshot(), restored.ToSnapshot());
    }

    [Fact]
    public void Empty_store_round_trips()
    {
        var store = new MvccStore();
        var restored = new MvccStore();
        restored.RestoreSnapshot(store.ToSnapshot());
        Assert.Equal(1, restored.Revision);
        Assert.Equal(-1, restored.CompactRevision);
        Assert.Equal(0, restored.KeyCount);
    }

    [Fact]
    public void Truncated_or_corrupt_snapshots_are_refused_and_leave_an_empty_store()
    {
        var original = new MvccStore();
        ApplySample(original);
        var snapshot = original.ToSnapshot();

        var restored = new MvccStore();
        Assert.Throws<InvalidDataException>(() => restored.RestoreSnapshot(snapshot[..^5]));
        Assert.Equal(0, restored.KeyCount);
        Assert.Equal(1, restored.Revision);

        var badMagic = (byte[])snapshot.Clone();
        badMagic[0] ^= 0xff;
        Assert.Throws<InvalidDataException>(() => restored.RestoreSnapshot(badMagic));
    }

    [Fact]
    public void Hash_kv_is_equal_for_equal_stores_and_ignores_later_revisions()
    {
        var first = new MvccStore();
        var second = new MvccStore();
        ApplySample(first);
        ApplySample(second);
        var before = first.HashKV(new HashKVRequest());
        Assert.Equal(before.Hash, second.HashKV(new HashKVRequest()).Hash);
        Assert.Equal(7, before.HashRevision);
        Assert.Equal(4, before.CompactRevision);

        second.Put("extra", "1");

        Assert.NotEqual(before.Hash, second.HashKV(new HashKVRequest()).Hash);
        Assert.Equal(before.Hash, second.HashKV(new HashKVRequest { Revision = 7 }).Hash);
        Assert.Throws<EtcdException>(() => second.HashKV(new HashKVRequest { Revision = 3 }));
    }

    [Fact]
    public void A_frozen_store_writes_the_state_it_was_taken_at_whatever_the_store_does_next()
    {
        // The frozen store shares each key's version array with the live store (no copy), so every way the live
        // store changes a history must leave the shared slots alone: appends that fill and grow the array,
        // deletes, compactions that drop old versions, and a failed txn that undoes its own appends.
        var store = new MvccStore();
        for (var i = 0; i < 300; i++)
            store.Put($"k{i % 40:D2}", $"v{i}");
        store.Delete("k05");
        var before = store.ToSnapshot();
        var frozen = FrozenStore.Of(store);

        // First the changes that fit in the arrays as they are: a compaction that drops the oldest two or three
        // versions of each key (with room for 8, it would move the rest in place), and puts into free slots.
        store.Compact(new CompactionRequest { Revision = 100 });
        store.Put("k01", "in place");
        for (var i = 0; i < 500; i++)
            store.Put($"k{i % 45:D2}", $"w{i}");
        store.Delete("k1", "k2");
        store.Compact(new CompactionRequest { Revision = store.Revision - 100 });
        Assert.Throws<EtcdException>(() => store.Txn(new TxnRequest
        {
            Success = { PutOp("k30", "undone"), new RequestOp { RequestPut = new PutRequest { Key = B("absent"), IgnoreValue = true } } },
        }));
        store.Compact(new CompactionRequest { Revision = store.Revision });
        FrozenStore.Of(store); // shares again, and the next changes copy again
        for (var i = 0; i < 100; i++)
            store.Put($"k{i % 45:D2}", $"x{i}");
        store.Compact(new CompactionRequest { Revision = store.Revision - 10 });

        using var written = new MemoryStream();
        MvccSnapshot.Write(frozen, written);
        Assert.Equal(before, written.ToArray());
    }
}
