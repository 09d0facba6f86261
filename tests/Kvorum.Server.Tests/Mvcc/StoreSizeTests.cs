using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Mvcc;
using static Kvorum.Server.Tests.Mvcc.StoreOps;

namespace Kvorum.Server.Tests.Mvcc;

/// <summary>
/// <see cref="MvccStore.SizeBytes"/>, what <c>--quota-backend-bytes</c> measures: kept up to date as versions
/// come (puts, deletes) and go (compaction, a write undone), and the same after a snapshot is restored.
/// </summary>
public class StoreSizeTests
{
    /// <summary>The size counted from scratch: key, value and overhead of every version kept.</summary>
    internal static long Recount(MvccStore store)
    {
        var frozen = FrozenStore.Of(store);
        long bytes = 0;
        for (var k = 0; k < frozen.Keys.Length; k++)
        {
            foreach (var version in frozen.Versions[k].Span)
                bytes += frozen.Keys[k].Length + version.ValueLength + KeyIndex.EntryOverhead;
        }
        return bytes;
    }

    [Fact]
    public void Puts_and_deletes_add_their_versions_and_a_compaction_takes_off_what_it_drops()
    {
        var store = new MvccStore();
        Assert.Equal(0, store.SizeBytes);

        store.Put("key", new string('x', 100));
        Assert.Equal(3 + 100 + KeyIndex.EntryOverhead, store.SizeBytes);
        store.Put("key", new string('y', 50)); // a second version: history is kept until compacted
        Assert.Equal(2 * (3 + KeyIndex.EntryOverhead) + 150, store.SizeBytes);
        store.Delete("key"); // a tombstone: the key and the overhead
        Assert.Equal(3 * (3 + KeyIndex.EntryOverhead) + 150, store.SizeBytes);
        Assert.Equal(Recount(store), store.SizeBytes);

        // Compacting at the tombstone drops the whole history, and the key with it.
        store.Compact(new CompactionRequest { Revision = store.Revision });
        Assert.Equal(0, store.SizeBytes);
        Assert.Equal(0, store.KeyCount);
    }

    [Fact]
    public void A_transaction_that_fails_half_way_leaves_the_size_as_it_was()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        var before = store.SizeBytes;

        // The first put is applied, then the second fails (no value to keep on a missing key): both are undone.
        var txn = new TxnRequest();
        txn.Success.Add(PutOp("b", new string('z', 1000)));
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = B("missing"), IgnoreValue = true } });
        Assert.Throws<EtcdException>(() => store.Txn(txn));

        Assert.Equal(before, store.SizeBytes);
        Assert.Equal(Recount(store), store.SizeBytes);
    }

    [Fact]
    public void A_restored_snapshot_counts_what_the_original_counted()
    {
        var store = new MvccStore();
        for (var i = 0; i < 200; i++)
            store.Put($"k{i % 37}", new string('v', i));
        store.Compact(new CompactionRequest { Revision = 120 });

        var restored = new MvccStore();
        restored.RestoreSnapshot(store.ToSnapshot());

        Assert.Equal(Recount(store), store.SizeBytes);
        Assert.Equal(store.SizeBytes, restored.SizeBytes);

        // Restoring over a store that held something counts only what was restored.
        restored.Put("extra", "value");
        restored.RestoreSnapshot(store.ToSnapshot());
        Assert.Equal(store.SizeBytes, restored.SizeBytes);
    }
}
