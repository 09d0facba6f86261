using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Mvcc;
using static Kvorum.Server.Tests.Mvcc.StoreOps;

namespace Kvorum.Server.Tests.Mvcc;

/// <summary>The write transaction underneath every put, delete and txn: sub revisions and rollback.</summary>
public class StoreWriteTests
{
    [Fact]
    public void Rollback_restores_keys_histories_and_leases_exactly()
    {
        var store = new MvccStore();
        store.Put("a", "1", lease: 5);
        store.Put("b", "1", lease: 6);
        var before = store.ToSnapshot();

        var write = new StoreWrite(store, recordEvents: true);
        write.Put(new PutRequest { Key = B("a"), Value = B("2"), Lease = 7 });
        write.DeleteRange(new DeleteRangeRequest { Key = B("b") });
        write.Put(new PutRequest { Key = B("b"), Value = B("again"), Lease = 7 });
        write.Put(new PutRequest { Key = B("new"), Value = B("x") });
        Assert.Equal(4, write.Events.Count);
        Assert.Equal(["a", "b"], store.Leases.KeysOf(7).Select(S));
        write.Rollback();

        Assert.Equal(before, store.ToSnapshot());
        Assert.Equal(3, store.Revision);
        Assert.Null(store.Get("new"));
        Assert.Equal(["a"], store.Leases.KeysOf(5).Select(S));
        Assert.Equal(["b"], store.Leases.KeysOf(6).Select(S));
        Assert.Empty(store.Leases.KeysOf(7));
        Assert.Empty(write.Events);
    }

    [Fact]
    public void A_rollback_undoes_only_its_own_write_though_writes_share_the_store_undo_log()
    {
        var store = new MvccStore();
        var first = new StoreWrite(store, recordEvents: false);
        first.Put(new PutRequest { Key = B("a"), Value = B("1"), Lease = 5 });
        first.Commit();
        var afterFirst = store.ToSnapshot();

        var second = new StoreWrite(store, recordEvents: false);
        second.Put(new PutRequest { Key = B("a"), Value = B("2"), Lease = 6 });
        second.Put(new PutRequest { Key = B("b"), Value = B("1") });
        second.Rollback();

        Assert.Equal(afterFirst, store.ToSnapshot());
        Assert.Equal("1", S(store.Get("a")!.Value));
        Assert.Equal(["a"], store.Leases.KeysOf(5).Select(S));
        Assert.Empty(store.Leases.KeysOf(6));
        Assert.Empty(store.UndoLog);
    }

    [Fact]
    public void Changes_in_one_write_share_the_main_revision_and_count_sub_revisions()
    {
        var store = new MvccStore();
        var write = new StoreWrite(store, recordEvents: true);
        write.Put(new PutRequest { Key = B("a"), Value = B("1") });
        write.DeleteRange(new DeleteRangeRequest { Key = B("a") });
        write.Put(new PutRequest { Key = B("a"), Value = B("2") });
        write.Commit();

        Assert.Equal(2, store.Revision);
        Assert.All(write.Events, e => Assert.Equal(2, e.Kv.ModRevision));
        var kv = store.Get("a")!;
        // Recreated within the revision: a fresh key as of revision 2.
        Assert.Equal((2L, 2L, 1L, "2"), (kv.CreateRevision, kv.ModRevision, kv.Version, S(kv.Value)));
    }

    [Fact]
    public void Nested_txns_get_what_is_left_of_the_op_budget()
    {
        var store = new MvccStore { MaxTxnOps = 3 };
        var nested = new TxnRequest { Success = { PutOp("x", "1"), PutOp("y", "1") } };

        // Two ops at the top leave one for the nested txn, which has two.
        var error = Assert.Throws<EtcdException>(() =>
            store.Txn(new TxnRequest { Success = { PutOp("a", "1"), TxnOp(nested) } }));
        Assert.Equal(EtcdErrors.TooManyOps, error.Error);

        // One op at the top leaves two.
        store.Txn(new TxnRequest { Success = { TxnOp(nested) } });
        Assert.NotNull(store.Get("y"));
    }
}
