using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;
using LeaseApi = Kvorum.Etcd.Api.Lease;

namespace Kvorum.Server.Tests.Differential;

/// <summary>
/// One side of a differential run (etcd, or a Kvorum cluster): a channel to each member, the KV and Lease calls on a
/// chosen member, and watch streams spread over the members (stream <c>s</c> on member <c>s mod members</c>). Requests
/// carry the reference's lease ids; <see cref="Leases"/> turns them into this server's (and its answers back).
/// </summary>
internal sealed class ComparedServer : IAsyncDisposable
{
    private readonly GrpcChannel[] _channels;
    private readonly WatchTranscript[] _streams;

    /// <summary>Connects to <paramref name="urls"/> and opens <paramref name="streams"/> watch streams.</summary>
    public ComparedServer(string name, IReadOnlyList<string> urls, int streams)
    {
        Name = name;
        _channels = [.. urls.Select(u => GrpcChannel.ForAddress(u))];
        _streams = [.. Enumerable.Range(0, streams).Select(s => new WatchTranscript(_channels[s % _channels.Length].CreateCallInvoker()))];
    }

    public string Name { get; }

    public int Members => _channels.Length;

    /// <summary>This server's lease ids for the reference's (empty for the reference itself).</summary>
    public LeaseIdMap Leases { get; } = new();

    public IReadOnlyList<WatchTranscript> Streams => _streams;

    /// <summary>The member that serves watch stream <paramref name="stream"/>.</summary>
    public int MemberOfStream(int stream) => stream % _channels.Length;

    /// <summary>
    /// Sends <paramref name="request"/> (a KV or Lease request, with the reference's lease ids) to member
    /// <paramref name="member"/>; a keep-alive goes alone on its own stream. The response is this server's, as it came.
    /// </summary>
    public async Task<(IMessage? Response, StatusCode Code, string Error)> CallAsync(int member, IMessage request)
    {
        var invoker = _channels[member % _channels.Length].CreateCallInvoker();
        var kv = new KV.KVClient(invoker);
        var lease = new LeaseApi.LeaseClient(invoker);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        try
        {
            IMessage response = Leases.ToServer(request) switch
            {
                RangeRequest r => await kv.RangeAsync(r, deadline: deadline),
                PutRequest p => await kv.PutAsync(p, deadline: deadline),
                DeleteRangeRequest d => await kv.DeleteRangeAsync(d, deadline: deadline),
                TxnRequest t => await kv.TxnAsync(t, deadline: deadline),
                CompactionRequest c => await kv.CompactAsync(c, deadline: deadline),
                LeaseGrantRequest g => await lease.LeaseGrantAsync(g, deadline: deadline),
                LeaseRevokeRequest v => await lease.LeaseRevokeAsync(v, deadline: deadline),
                LeaseTimeToLiveRequest t => await lease.LeaseTimeToLiveAsync(t, deadline: deadline),
                LeaseLeasesRequest l => await lease.LeaseLeasesAsync(l, deadline: deadline),
                LeaseKeepAliveRequest k => await KeepAliveOnceAsync(lease, k, deadline),
                _ => throw new ArgumentException($"not a KV or Lease request: {request.GetType().Name}", nameof(request)),
            };
            return (response, StatusCode.OK, "");
        }
        catch (RpcException e)
        {
            return (null, e.StatusCode, e.Status.Detail);
        }
    }

    private static async Task<LeaseKeepAliveResponse> KeepAliveOnceAsync(LeaseApi.LeaseClient lease, LeaseKeepAliveRequest request, DateTime deadline)
    {
        using var call = lease.LeaseKeepAlive(deadline: deadline);
        await call.RequestStream.WriteAsync(request);
        if (!await call.ResponseStream.MoveNext())
            throw new RpcException(new Status(StatusCode.Internal, "the keep-alive stream ended without an answer"));
        var response = call.ResponseStream.Current;
        await call.RequestStream.CompleteAsync();
        return response;
    }

    /// <summary>
    /// A linearizable read on member <paramref name="member"/>: once it answers, the member has applied every write
    /// acknowledged before it, so its serializable answers and its watch answers' revisions are up to date.
    /// </summary>
    public async Task BarrierAsync(int member)
    {
        var kv = new KV.KVClient(_channels[member % _channels.Length]);
        await kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("__ready") }, deadline: DateTime.UtcNow.AddSeconds(10));
    }

    /// <summary>Lease <paramref name="id"/>'s (the reference's id) remaining TTL on member <paramref name="member"/>; -1 once it is gone.</summary>
    public async Task<long> RemainingTtlAsync(int member, long id)
    {
        var (response, code, error) = await CallAsync(member, new LeaseTimeToLiveRequest { ID = id });
        return response is LeaseTimeToLiveResponse r ? r.TTL : throw new RpcException(new Status(code, error));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _streams)
            await s.DisposeAsync();
        foreach (var c in _channels)
            c.Dispose();
    }
}
