using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Server.Mvcc;

namespace Kvorum.Server.Tests.Mvcc;

/// <summary>Which txns are reads, answered without Raft, and which of those are serializable.</summary>
public class ReadOnlyTxnTests
{
    private static RequestOp Range(bool serializable = false) =>
        new() { RequestRange = new RangeRequest { Key = ByteString.CopyFromUtf8("k"), Serializable = serializable } };

    private static RequestOp Put() =>
        new() { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("v") } };

    private static RequestOp Delete() =>
        new() { RequestDeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8("k") } };

    private static RequestOp Nested(TxnRequest txn) => new() { RequestTxn = txn };

    private static TxnRequest Txn(IEnumerable<RequestOp> success, IEnumerable<RequestOp> failure)
    {
        var txn = new TxnRequest();
        txn.Success.AddRange(success);
        txn.Failure.AddRange(failure);
        return txn;
    }

    [Fact]
    public void Ranges_on_both_branches_are_a_read()
    {
        Assert.True(ReadOnlyTxn.IsReadOnly(Txn([Range()], [Range(), Range()])));
        Assert.True(ReadOnlyTxn.IsReadOnly(new TxnRequest())); // compares only
    }

    /// <summary>etcd's isTxnReadonly: a nested txn makes a write, even one that only reads (found against etcd:
    /// such a txn over the size limit is "request is too large" there).</summary>
    [Fact]
    public void A_nested_txn_makes_a_write_as_in_etcd()
    {
        Assert.False(ReadOnlyTxn.IsReadOnly(Txn([Nested(Txn([Range()], []))], [])));
        Assert.False(ReadOnlyTxn.IsReadOnly(Txn([Range()], [Nested(new TxnRequest())])));
    }

    [Fact]
    public void A_write_anywhere_makes_a_write_even_on_the_branch_that_will_not_run()
    {
        Assert.False(ReadOnlyTxn.IsReadOnly(Txn([Range()], [Put()])));
        Assert.False(ReadOnlyTxn.IsReadOnly(Txn([Delete()], [])));
        Assert.False(ReadOnlyTxn.IsReadOnly(Txn([Nested(Txn([], [Put()]))], [Range()])));
    }

    [Fact]
    public void Serializable_only_when_every_range_is()
    {
        Assert.True(ReadOnlyTxn.IsSerializable(Txn([Range(serializable: true)], [Range(serializable: true)])));
        Assert.False(ReadOnlyTxn.IsSerializable(Txn([Range(serializable: true)], [Nested(Txn([Range(serializable: true)], []))])));
        Assert.False(ReadOnlyTxn.IsSerializable(Txn([Range(serializable: true)], [Range()])));
        Assert.False(ReadOnlyTxn.IsSerializable(Txn([Nested(Txn([Range()], []))], [])));
    }

    [Fact]
    public void A_read_only_txn_leaves_the_revision_alone_on_either_branch()
    {
        var store = new MvccStore();
        store.Put(new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("v") });
        var revision = store.Revision;
        var txn = Txn([Range()], [Range(), Range()]);
        txn.Compare.Add(new Compare { Key = ByteString.CopyFromUtf8("k"), Target = Compare.Types.CompareTarget.Version, Result = Compare.Types.CompareResult.Greater, Version = 5 });
        var response = store.Txn(txn);
        Assert.False(response.Succeeded);
        Assert.Equal(2, response.Responses.Count);
        Assert.Equal(revision, store.Revision);
        Assert.Equal(revision, response.Header.Revision);
    }
}
