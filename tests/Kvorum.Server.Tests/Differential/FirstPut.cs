using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;

namespace Kvorum.Server.Tests.Differential;

/// <summary>The one put both servers of a differential run start with, made once the server has a leader.</summary>
internal static class FirstPut
{
    /// <summary>
    /// Waits until a linearizable read answers (there is a leader), then puts the one key both start with: a put that
    /// timed out while the server was starting might still be applied, and leave the two a revision apart.
    /// </summary>
    public static async Task WhenReadyAsync(string url, Func<string> why)
    {
        using var channel = GrpcChannel.ForAddress(url);
        var kv = new KV.KVClient(channel);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("__ready") }, deadline: DateTime.UtcNow.AddSeconds(2));
                break;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
            catch (RpcException e)
            {
                throw new TimeoutException($"{why()} ({e.Status})", e);
            }
        }
        await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("__ready"), Value = ByteString.CopyFromUtf8("1") }, deadline: DateTime.UtcNow.AddSeconds(20));
    }
}
