using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Keys;
using Kvorum.Server.Mvcc;

namespace Kvorum.Server.Tests.Mvcc;

/// <summary>Short forms of the requests the tests send, with keys and values as UTF-8 strings.</summary>
internal static class StoreOps
{
    public static ByteString B(string text) => ByteString.CopyFromUtf8(text);

    public static string S(ByteString bytes) => bytes.ToStringUtf8();

    public static PutResponse Put(this MvccStore store, string key, string value, long lease = 0, bool prevKv = false) =>
        store.Put(new PutRequest { Key = B(key), Value = B(value), Lease = lease, PrevKv = prevKv });

    public static DeleteRangeResponse Delete(this MvccStore store, string key, string rangeEnd = "", bool prevKv = false) =>
        store.DeleteRange(new DeleteRangeRequest { Key = B(key), RangeEnd = B(rangeEnd), PrevKv = prevKv });

    public static KeyValue? Get(this MvccStore store, string key, long revision = 0)
    {
        var response = store.Range(new RangeRequest { Key = B(key), Revision = revision });
        return response.Kvs.Count == 0 ? null : response.Kvs[0];
    }

    public static RangeResponse Prefix(this MvccStore store, string prefix, long limit = 0, long revision = 0) =>
        store.Range(new RangeRequest
        {
            Key = B(prefix),
            RangeEnd = KeyRange.PrefixEnd(B(prefix)),
            Limit = limit,
            Revision = revision,
        });

    public static string[] Keys(this RangeResponse response) => [.. response.Kvs.Select(kv => S(kv.Key))];

    public static RequestOp PutOp(string key, string value) =>
        new() { RequestPut = new PutRequest { Key = B(key), Value = B(value) } };

    public static RequestOp DeleteOp(string key, string rangeEnd = "") =>
        new() { RequestDeleteRange = new DeleteRangeRequest { Key = B(key), RangeEnd = B(rangeEnd) } };

    public static RequestOp RangeOp(string key, string rangeEnd = "") =>
        new() { RequestRange = new RangeRequest { Key = B(key), RangeEnd = B(rangeEnd) } };

    public static RequestOp TxnOp(TxnRequest txn) => new() { RequestTxn = txn };

    public static Compare VersionIs(string key, Compare.Types.CompareResult result, long version) =>
        new() { Key = B(key), Target = Compare.Types.CompareTarget.Version, Result = result, Version = version };

    public static Compare ValueIs(string key, Compare.Types.CompareResult result, string value) =>
        new() { Key = B(key), Target = Compare.Types.CompareTarget.Value, Result = result, Value = B(value) };

    public static Compare ModIs(string key, Compare.Types.CompareResult result, long modRevision) =>
        new() { Key = B(key), Target = Compare.Types.CompareTarget.Mod, Result = result, ModRevision = modRevision };

    public static Compare CreateIs(string key, Compare.Types.CompareResult result, long createRevision) =>
        new() { Key = B(key), Target = Compare.Types.CompareTarget.Create, Result = result, CreateRevision = createRevision };

    public static Compare LeaseIs(string key, Compare.Types.CompareResult result, long lease) =>
        new() { Key = B(key), Target = Compare.Types.CompareTarget.Lease, Result = result, Lease = lease };
}
