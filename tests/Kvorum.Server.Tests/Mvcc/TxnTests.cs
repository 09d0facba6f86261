using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Etcd.Keys;
using Kvorum.Server.Mvcc;
using static Kvorum.Server.Tests.Mvcc.StoreOps;
using Result = Kvorum.Etcd.Api.Compare.Types.CompareResult;

namespace Kvorum.Server.Tests.Mvcc;

/// <summary>Txn compares, branches, nesting, revisions and etcd's txn errors.</summary>
public class TxnTests
{
    [Theory]
    [InlineData(Result.Equal, 2, true)]
    [InlineData(Result.Equal, 1, false)]
    [InlineData(Result.NotEqual, 1, true)]
    [InlineData(Result.Greater, 1, true)]
    [InlineData(Result.Greater, 2, false)]
    [InlineData(Result.Less, 3, true)]
    [InlineData(Result.Less, 2, false)]
    public void Version_compare_chooses_the_branch(Result result, long version, bool expected)
    {
        var store = new MvccStore();
        store.Put("k", "1");
        store.Put("k", "2");

        var response = store.Txn(new TxnRequest { Compare = { VersionIs("k", result, version) } });

        Assert.Equal(expected, response.Succeeded);
    }

    [Fact]
    public void Value_mod_create_and_lease_compares()
    {
        var store = new MvccStore();
        store.Put("k", "abc", lease: 42);   // 2
        store.Put("k", "abd", lease: 42);   // 3

        Assert.True(store.Txn(new TxnRequest { Compare = { ValueIs("k", Result.Equal, "abd") } }).Succeeded);
        Assert.True(store.Txn(new TxnRequest { Compare = { ValueIs("k", Result.Greater, "abc") } }).Succeeded);
        Assert.True(store.Txn(new TxnRequest { Compare = { ValueIs("k", Result.Less, "b") } }).Succeeded);
        Assert.True(store.Txn(new TxnRequest { Compare = { ModIs("k", Result.Equal, 3) } }).Succeeded);
        Assert.True(store.Txn(new TxnRequest { Compare = { CreateIs("k", Result.Equal, 2) } }).Succeeded);
        Assert.True(store.Txn(new TxnRequest { Compare = { LeaseIs("k", Result.Equal, 42) } }).Succeeded);
        Assert.False(store.Txn(new TxnRequest { Compare = { LeaseIs("k", Result.NotEqual, 42) } }).Succeeded);
    }

    [Fact]
    public void Missing_key_compares_as_zero_except_for_value()
    {
        var store = new MvccStore();

        Assert.True(store.Txn(new TxnRequest { Compare = { CreateIs("nope", Result.Equal, 0) } }).Succeeded);
        Assert.True(store.Txn(new TxnRequest { Compare = { VersionIs("nope", Result.Equal, 0) } }).Succeeded);
        Assert.False(store.Txn(new TxnRequest { Compare = { ValueIs("nope", Result.Equal, "") } }).Succeeded);
        Assert.False(store.Txn(new TxnRequest { Compare = { ValueIs("nope", Result.NotEqual, "x") } }).Succeeded);
    }

    [Fact]
    public void Compare_over_a_range_must_hold_for_every_key()
    {
        var store = new MvccStore();
        store.Put("p/a", "1");
        store.Put("p/b", "1");
        store.Put("p/b", "2");
        var allVersionOne = VersionIs("p/", Result.Equal, 1);
        allVersionOne.RangeEnd = KeyRange.PrefixEnd(B("p/"));
        var allBelowThree = VersionIs("p/", Result.Less, 3);
        allBelowThree.RangeEnd = KeyRange.PrefixEnd(B("p/"));

        Assert.False(store.Txn(new TxnRequest { Compare = { allVersionOne } }).Succeeded);
        Assert.True(store.Txn(new TxnRequest { Compare = { allBelowThree } }).Succeeded);
    }

    [Fact]
    public void All_compares_must_hold()
    {
        var store = new MvccStore();
        store.Put("a", "1");

        var response = store.Txn(new TxnRequest
        {
            Compare = { ValueIs("a", Result.Equal, "1"), VersionIs("a", Result.Equal, 5) },
            Success = { PutOp("s", "x") },
            Failure = { PutOp("f", "x") },
        });

        Assert.False(response.Succeeded);
        Assert.Null(store.Get("s"));
        Assert.NotNull(store.Get("f"));
    }

    [Fact]
    public void A_txn_with_writes_takes_one_revision()
    {
        var store = new MvccStore();
        store.Put("old", "x");   // 2

        var response = store.Txn(new TxnRequest
        {
            Success = { PutOp("a", "1"), PutOp("b", "2"), DeleteOp("old"), RangeOp("a", "c") },
        });

        Assert.True(response.Succeeded);
        Assert.Equal(3, response.Header.Revision);
        Assert.Equal(3, store.Revision);
        Assert.Equal(3, response.Responses[0].ResponsePut.Header.Revision);
        Assert.Equal(3, response.Responses[1].ResponsePut.Header.Revision);
        Assert.Equal(1, response.Responses[2].ResponseDeleteRange.Deleted);
        var readBack = response.Responses[3].ResponseRange;
        Assert.Equal(["a", "b"], readBack.Keys());
        Assert.Equal(3, readBack.Header.Revision);
        Assert.All(readBack.Kvs, kv => Assert.Equal(3, kv.ModRevision));
    }

    [Fact]
    public void A_read_only_txn_does_not_advance_the_revision()
    {
        var store = new MvccStore();
        store.Put("a", "1");

        var response = store.Txn(new TxnRequest { Success = { RangeOp("a") } });

        Assert.Equal(2, response.Header.Revision);
        Assert.Equal(2, store.Revision);
        Assert.Equal(["a"], response.Responses[0].ResponseRange.Keys());
    }

    [Fact]
    public void Nested_txns_run_on_the_chosen_branch_and_compare_against_the_state_before_the_txn()
    {
        var store = new MvccStore();
        store.Put("flag", "off");   // 2

        var inner = new TxnRequest
        {
            // The outer txn sets flag to "on" first, but the inner compare still sees "off".
            Compare = { ValueIs("flag", Result.Equal, "off") },
            Success = { PutOp("inner", "then") },
            Failure = { PutOp("inner", "else") },
        };
        var response = store.Txn(new TxnRequest
        {
            Compare = { VersionIs("flag", Result.Greater, 0) },
            Success = { PutOp("flag", "on"), TxnOp(inner) },
        });

        Assert.True(response.Succeeded);
        var innerResponse = response.Responses[1].ResponseTxn;
        Assert.True(innerResponse.Succeeded);
        Assert.Equal(0, innerResponse.Header.Revision);
        Assert.Equal(3, innerResponse.Responses[0].ResponsePut.Header.Revision);
        Assert.Equal("then", S(store.Get("inner")!.Value));
        Assert.Equal(3, store.Revision);
    }

    [Fact]
    public void Nested_branches_may_put_the_same_key()
    {
        var store = new MvccStore();
        var inner = new TxnRequest
        {
            Compare = { VersionIs("x", Result.Equal, 0) },
            Success = { PutOp("k", "then") },
            Failure = { PutOp("k", "else") },
        };

        var response = store.Txn(new TxnRequest { Success = { TxnOp(inner) } });

        Assert.True(response.Responses[0].ResponseTxn.Succeeded);
        Assert.Equal("then", S(store.Get("k")!.Value));
    }

    [Fact]
    public void Put_twice_in_one_txn_is_a_duplicate_key()
    {
        var store = new MvccStore();
        var error = Assert.Throws<EtcdException>(() =>
            store.Txn(new TxnRequest { Success = { PutOp("k", "1"), PutOp("k", "2") } }));
        Assert.Equal(EtcdErrors.DuplicateKey, error.Error);
        Assert.Equal(1, store.Revision);
    }

    [Theory]
    [InlineData("k", "")]
    [InlineData("a", "z")]
    public void Put_inside_a_deleted_range_is_a_duplicate_key(string deleteKey, string deleteEnd)
    {
        var store = new MvccStore();
        Assert.Throws<EtcdException>(() =>
            store.Txn(new TxnRequest { Success = { DeleteOp(deleteKey, deleteEnd), PutOp("k", "1") } }));
    }

    /// <summary>etcd's check takes [key, "\0") for an empty interval (see TxnKeyConflicts), so it lets such a txn
    /// through, and the store applies its ops in order: the delete also removes what the txn put before it.</summary>
    [Fact]
    public void Put_then_delete_of_every_key_from_it_on_is_applied_in_order()
    {
        var store = new MvccStore();
        store.Put("a", "0");
        var response = store.Txn(new TxnRequest { Success = { PutOp("b", "1"), DeleteOp("a", "\0"), PutOp("c", "2") } });

        Assert.Equal(2, response.Responses[1].ResponseDeleteRange.Deleted);
        Assert.Equal(3, store.Revision);
        Assert.Null(store.Get("a"));
        Assert.Null(store.Get("b"));
        Assert.Equal("2", S(store.Get("c")!.Value));
        Assert.Equal(3, store.Get("c")!.CreateRevision);
        // Read back at the txn's revision: the same; and "a" is still there one revision before.
        var all = store.Range(new RangeRequest { Key = B("\0"), RangeEnd = B("\0"), Revision = 3 });
        Assert.Equal(["c"], all.Kvs.Select(kv => S(kv.Key)));
        var before = store.Range(new RangeRequest { Key = B("\0"), RangeEnd = B("\0"), Revision = 2 });
        Assert.Equal(["a"], before.Kvs.Select(kv => S(kv.Key)));
    }

    [Fact]
    public void Nested_put_against_an_outer_delete_is_a_duplicate_key()
    {
        var store = new MvccStore();
        var inner = new TxnRequest { Success = { PutOp("k", "1") } };
        Assert.Throws<EtcdException>(() =>
            store.Txn(new TxnRequest { Success = { DeleteOp("k"), TxnOp(inner) } }));
    }

    [Fact]
    public void Overlapping_deletes_are_allowed()
    {
        var store = new MvccStore();
        store.Put("k", "1");
        var response = store.Txn(new TxnRequest { Success = { DeleteOp("a", "z"), DeleteOp("k") } });
        Assert.Equal(1, response.Responses[0].ResponseDeleteRange.Deleted);
        Assert.Equal(0, response.Responses[1].ResponseDeleteRange.Deleted);
        Assert.Equal(3, store.Revision);
    }

    [Fact]
    public void Too_many_ops_and_empty_ops_are_rejected()
    {
        var store = new MvccStore { MaxTxnOps = 2 };
        var tooMany = Assert.Throws<EtcdException>(() =>
            store.Txn(new TxnRequest { Success = { PutOp("a", "1"), PutOp("b", "1"), PutOp("c", "1") } }));
        Assert.Equal(EtcdErrors.TooManyOps, tooMany.Error);

        var empty = Assert.Throws<EtcdException>(() =>
            store.Txn(new TxnRequest { Success = { new RequestOp() } }));
        Assert.Equal(EtcdErrors.KeyNotFound, empty.Error);

        var emptyCompareKey = Assert.Throws<EtcdException>(() =>
            store.Txn(new TxnRequest { Compare = { new Compare() } }));
        Assert.Equal(EtcdErrors.EmptyKey, emptyCompareKey.Error);
    }

    [Fact]
    public void A_failing_op_on_the_chosen_path_rejects_the_whole_txn()
    {
        var store = new MvccStore();
        store.Put("a", "1");

        var futureRead = new RequestOp { RequestRange = new RangeRequest { Key = B("a"), Revision = 99 } };
        var error = Assert.Throws<EtcdException>(() =>
            store.Txn(new TxnRequest { Success = { PutOp("b", "1"), futureRead } }));

        Assert.Equal(EtcdErrors.FutureRevision, error.Error);
        Assert.Equal(2, store.Revision);
        Assert.Null(store.Get("b"));
    }

    /// <summary>etcd checks every put of the chosen path before any range, whatever their order in the txn.</summary>
    [Fact]
    public void Puts_are_checked_before_ranges()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        var futureRead = new RequestOp { RequestRange = new RangeRequest { Key = B("a"), Revision = 99 } };
        var missing = new RequestOp { RequestPut = new PutRequest { Key = B("missing"), IgnoreValue = true } };

        var error = Assert.Throws<EtcdException>(() => store.Txn(new TxnRequest { Success = { futureRead, missing } }));

        Assert.Equal(EtcdErrors.KeyNotFound, error.Error);
    }

    /// <summary>
    /// Inside a txn, etcd compares a range's revision with the compaction revision as given, so a negative one (the
    /// newest revision elsewhere) fails as compacted once the store has been compacted; a top-level range reads the newest.
    /// </summary>
    [Fact]
    public void Negative_revision_in_a_txn_range_is_compacted_after_a_compaction()
    {
        var store = new MvccStore();
        store.Put("a", "1");
        var negative = new RequestOp { RequestRange = new RangeRequest { Key = B("a"), Revision = -1 } };
        Assert.Single(store.Txn(new TxnRequest { Success = { negative } }).Responses[0].ResponseRange.Kvs);

        store.Put("a", "2");
        store.Compact(new CompactionRequest { Revision = 2 });

        var error = Assert.Throws<EtcdException>(() => store.Txn(new TxnRequest { Success = { negative } }));
        Assert.Equal(EtcdErrors.Compacted, error.Error);
        Assert.Equal("2", S(store.Range(new RangeRequest { Key = B("a"), Revision = -1 }).Kvs[0].Value));
    }

    [Fact]
    public void Ops_on_the_branch_not_taken_are_not_checked()
    {
        var store = new MvccStore();
        var ignoreMissing = new RequestOp { RequestPut = new PutRequest { Key = B("missing"), IgnoreValue = true } };

        var response = store.Txn(new TxnRequest
        {
            Compare = { VersionIs("x", Result.Equal, 0) },
            Success = { PutOp("ok", "1") },
            Failure = { ignoreMissing },
        });

        Assert.True(response.Succeeded);
        Assert.Equal(2, store.Revision);
    }

    [Fact]
    public void Reads_inside_a_txn_see_its_earlier_deletes_and_prev_kv()
    {
        var store = new MvccStore();
        store.Put("a", "1");   // 2
        store.Put("b", "1");   // 3

        var deleteWithPrev = new RequestOp
        {
            RequestDeleteRange = new DeleteRangeRequest { Key = B("a"), PrevKv = true },
        };
        var response = store.Txn(new TxnRequest { Success = { deleteWithPrev, RangeOp("a", "c") } });

        Assert.Equal("1", S(response.Responses[0].ResponseDeleteRange.PrevKvs[0].Value));
        Assert.Equal(4, response.Responses[0].ResponseDeleteRange.Header.Revision);
        Assert.Equal(["b"], response.Responses[1].ResponseRange.Keys());
        Assert.Equal(4, response.Responses[1].ResponseRange.Header.Revision);
        Assert.Equal(["a", "b"], store.Range(new RangeRequest { Key = B("a"), RangeEnd = B("c"), Revision = 3 }).Keys());
    }
}
