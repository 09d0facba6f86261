using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Etcd.Requests;

namespace Kvorum.Fuzz.Targets;

/// <summary>
/// A client's key-value request, parsed as gRPC parses it and checked as the server checks it before proposing
/// (<see cref="RequestValidator"/>, <see cref="TxnKeyConflicts"/>): the first byte picks range, put, delete or txn.
/// Any bytes are accepted or refused with <see cref="InvalidProtocolBufferException"/> or etcd's error
/// (<see cref="EtcdException"/>).
/// </summary>
internal static class EtcdRequestTarget
{
    /// <summary>Checks <paramref name="input"/>.</summary>
    public static void Run(byte[] input)
    {
        if (input.Length == 0)
            return;
        var body = input.AsSpan(1);
        try
        {
            switch (input[0] % 4)
            {
                case 0:
                    RequestValidator.Validate(RangeRequest.Parser.ParseFrom(body));
                    break;
                case 1:
                    RequestValidator.Validate(PutRequest.Parser.ParseFrom(body));
                    break;
                case 2:
                    RequestValidator.Validate(DeleteRangeRequest.Parser.ParseFrom(body));
                    break;
                default:
                    RequestValidator.Validate(TxnRequest.Parser.ParseFrom(body));
                    break;
            }
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or EtcdException)
        {
            // The documented refusals.
        }
    }

    /// <summary>A request of each kind, the txn with nested ops.</summary>
    public static IReadOnlyList<byte[]> Seeds()
    {
        var key = ByteString.CopyFromUtf8("k");
        var txn = new TxnRequest
        {
            Compare = { new Compare { Key = key, Target = Compare.Types.CompareTarget.Version, Result = Compare.Types.CompareResult.Equal } },
            Success =
            {
                new RequestOp { RequestPut = new PutRequest { Key = key, Value = key } },
                new RequestOp { RequestTxn = new TxnRequest { Success = { new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8("j") } } } } },
            },
            Failure = { new RequestOp { RequestRange = new RangeRequest { Key = key, RangeEnd = ByteString.CopyFromUtf8("l") } } },
        };
        return
        [
            [0, .. new RangeRequest { Key = key, RangeEnd = ByteString.CopyFromUtf8("\0"), Limit = 10 }.ToByteArray()],
            [1, .. new PutRequest { Key = key, Value = ByteString.CopyFromUtf8("v"), Lease = 5, PrevKv = true }.ToByteArray()],
            [2, .. new DeleteRangeRequest { Key = key, RangeEnd = ByteString.CopyFromUtf8("z") }.ToByteArray()],
            [3, .. txn.ToByteArray()],
        ];
    }
}
