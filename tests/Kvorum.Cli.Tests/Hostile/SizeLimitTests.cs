using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;
using Kvorum.Tests.Shared;

namespace Kvorum.Cli.Tests.Hostile;

/// <summary>
/// Requests at each of etcd's size limits, just below and just above, sent to etcd 3.4.23 and to the member: the same
/// answer from both (the request limit, the gRPC message limit above it, the txn operation limit, the empty key), and
/// the member serving the next client afterwards.
/// </summary>
[Collection(HostileMemberGroup.Name)]
public sealed class SizeLimitTests(HostileMember member)
{
    /// <summary>etcd's default <c>--max-request-bytes</c>.</summary>
    private const int MaxRequestBytes = 1536 * 1024;

    /// <summary>What gRPC lets through above the request limit before it refuses the message unread.</summary>
    private const int GrpcOverheadBytes = 512 * 1024;

    [SkippableFact]
    public async Task Requests_at_each_size_limit_get_etcds_answers_just_below_and_just_above()
    {
        EtcdServerProcess.Require();
        await using var etcd = new EtcdServerProcess(FreePorts.Next);
        using var etcdChannel = GrpcChannel.ForAddress(etcd.ClientUrl);
        var reference = new KV.KVClient(etcdChannel);
        await ReadyAsync(reference);

        foreach (var (name, call) in Cases())
        {
            var expected = await AnswerAsync(() => call(reference));
            var actual = await AnswerAsync(() => call(member.Kv));
            // gRPC's own refusal of an oversized message is worded by each implementation in its own way.
            if (expected.Code == StatusCode.ResourceExhausted)
                Assert.Equal((name, expected.Code), (name, actual.Code));
            else
                Assert.Equal((name, expected), (name, actual));
        }
        await member.ServesAsync(TimeSpan.FromSeconds(5));
    }

    private static IEnumerable<(string Name, Func<KV.KVClient, Task> Call)> Cases()
    {
        yield return ("put 1 KiB below the request limit", kv => Put(kv, "k", MaxRequestBytes - 1024));
        yield return ("put 1 byte above the request limit", kv => Put(kv, "k", MaxRequestBytes + 1));
        yield return ("put 1 KiB below gRPC's limit", kv => Put(kv, "k", MaxRequestBytes + GrpcOverheadBytes - 1024));
        yield return ("put 1 byte above gRPC's limit", kv => Put(kv, "k", MaxRequestBytes + GrpcOverheadBytes + 1));
        yield return ("put of a 1 MiB key", kv => Put(kv, new string('k', 1 << 20), 1));
        yield return ("range of a 1 MiB key", kv => kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(new string('k', 1 << 20)) }).ResponseAsync);
        yield return ("put of an empty key", kv => Put(kv, "", 1));
        yield return ("txn of 128 puts", kv => Txn(kv, 128, 16));
        yield return ("txn of 129 puts", kv => Txn(kv, 129, 16));
        yield return ("txn of 128 puts over the request limit", kv => Txn(kv, 128, MaxRequestBytes / 128));
    }

    private static Task<PutResponse> Put(KV.KVClient kv, string key, int valueBytes) =>
        kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFrom(new byte[valueBytes]) }).ResponseAsync;

    private static Task<TxnResponse> Txn(KV.KVClient kv, int puts, int valueBytes)
    {
        var txn = new TxnRequest();
        var value = ByteString.CopyFrom(new byte[valueBytes]);
        for (var i = 0; i < puts; i++)
            txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8($"t/{i}"), Value = value } });
        return kv.TxnAsync(txn).ResponseAsync;
    }

    private static async Task<(StatusCode Code, string Detail)> AnswerAsync(Func<Task> call)
    {
        try
        {
            await call();
            return (StatusCode.OK, "");
        }
        catch (RpcException e)
        {
            return (e.StatusCode, e.Status.Detail);
        }
    }

    private static async Task ReadyAsync(KV.KVClient kv)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("ready"), Value = ByteString.CopyFromUtf8("1") }, deadline: DateTime.UtcNow.AddSeconds(2));
                return;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }
}
