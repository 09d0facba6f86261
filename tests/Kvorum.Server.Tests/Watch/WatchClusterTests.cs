using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Tests.Cluster;

namespace Kvorum.Server.Tests.Watch;

/// <summary>
/// Watch on a real 3-member cluster in this process, through the generated gRPC client: any member serves watches
/// from its own state, a stalled reader does not hold the member up, and streams end as etcd's clients expect.
/// </summary>
public sealed class WatchClusterTests : IAsyncLifetime
{
    private readonly LocalCluster _cluster = new(3);
    private dotnet_etcd.EtcdClient _client = null!;

    public async Task InitializeAsync()
    {
        _cluster.StartAll();
        _client = await _cluster.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        await _cluster.DisposeAsync();
    }

    private static WatchRequest CreateRequest(string key, long start = 0, bool prevKv = false, string rangeEnd = "") => new()
    {
        CreateRequest = new WatchCreateRequest
        {
            Key = ByteString.CopyFromUtf8(key),
            RangeEnd = ByteString.CopyFromUtf8(rangeEnd),
            StartRevision = start,
            PrevKv = prevKv,
        },
    };

    private static async Task<WatchResponse> NextAsync(AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.True(await call.ResponseStream.MoveNext(timeout.Token), "the stream ended");
        return call.ResponseStream.Current;
    }

    [Fact]
    public async Task Every_member_serves_a_watch_from_its_own_state()
    {
        var calls = new List<(GrpcChannel Channel, AsyncDuplexStreamingCall<WatchRequest, WatchResponse> Call)>();
        foreach (var name in _cluster.Names)
        {
            var channel = GrpcChannel.ForAddress(_cluster.ClientUrl(name));
            var call = new Kvorum.Etcd.Api.Watch.WatchClient(channel).Watch();
            await call.RequestStream.WriteAsync(CreateRequest("w/", prevKv: true, rangeEnd: "w0"));
            var created = await NextAsync(call);
            Assert.True(created.Created);
            calls.Add((channel, call));
        }
        await _client.PutAsync("w/a", "1");
        await _client.PutAsync("w/a", "2");
        await _client.DeleteAsync("w/a");
        foreach (var (channel, call) in calls)
        {
            var events = new List<Event>();
            while (events.Count < 3)
                events.AddRange((await NextAsync(call)).Events);
            Assert.Equal([Event.Types.EventType.Put, Event.Types.EventType.Put, Event.Types.EventType.Delete], events.Select(e => e.Type));
            Assert.Equal([null, "1", "2"], events.Select(e => e.PrevKv?.Value.ToStringUtf8()));
            Assert.Equal(0, events[2].Kv.CreateRevision);
            call.Dispose();
            channel.Dispose();
        }
    }

    [Fact]
    public async Task A_stalled_reader_does_not_hold_up_writes_and_later_gets_every_event_exactly_once()
    {
        // A batch from the history may hold 1000 revisions in one response: etcd's clients take messages of any size.
        using var channel = GrpcChannel.ForAddress(_cluster.ClientUrl("m1"), new GrpcChannelOptions { MaxReceiveMessageSize = null });
        using var call = new Kvorum.Etcd.Api.Watch.WatchClient(channel).Watch();
        await call.RequestStream.WriteAsync(CreateRequest("slow"));
        var first = (await NextAsync(call)).Header.Revision;

        // Far more than the client's and the server's buffers hold: the writer blocks, the watcher is moved aside.
        var value = new string('x', 16 * 1024);
        const int puts = 1500;
        for (var i = 0; i < puts; i += 50)
            await Task.WhenAll(Enumerable.Range(i, 50).Select(n => _client.PutAsync("slow", value + n)));
        var last = (await _client.GetAsync("slow")).Header.Revision;

        var seen = new List<long>();
        while (seen.Count == 0 || seen[^1] < last)
            seen.AddRange((await NextAsync(call)).Events.Select(e => e.Kv.ModRevision));
        Assert.Equal(puts, seen.Count);
        Assert.Equal(seen.Order(), seen);
        Assert.Equal(puts, seen.Distinct().Count());
        Assert.True(seen[0] > first);
    }

    [Fact]
    public async Task A_stopping_member_ends_its_streams_with_server_stopped()
    {
        // Each stream on its own connection, the way separate clients hold them: the listener's goodbye to every
        // connection must come after the status of its stream, whose request side the client still holds open.
        const int clients = 16;
        var channels = Enumerable.Range(0, clients).Select(_ => GrpcChannel.ForAddress(_cluster.ClientUrl("m2"))).ToList();
        var calls = channels.Select(c => new Kvorum.Etcd.Api.Watch.WatchClient(c).Watch()).ToList();
        try
        {
            foreach (var call in calls)
            {
                await call.RequestStream.WriteAsync(CreateRequest("x"));
                Assert.True((await NextAsync(call)).Created);
            }
            var stopping = _cluster.StopAsync("m2");
            var ends = await Task.WhenAll(calls.Select(async call =>
            {
                try
                {
                    while (await call.ResponseStream.MoveNext(CancellationToken.None))
                    {
                    }
                    return "the stream ended without a status";
                }
                catch (RpcException error)
                {
                    return EtcdErrors.ServerStopped.Matches(error) ? null : $"{error.StatusCode}: {error.Status.Detail}";
                }
            }));
            var wrong = ends.OfType<string>().ToList();
            Assert.True(wrong.Count == 0, $"{wrong.Count} of {clients} streams did not end with server stopped: {string.Join(" | ", wrong.Distinct())}");
            await stopping;
        }
        finally
        {
            calls.ForEach(c => c.Dispose());
            channels.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task Require_leader_calls_fail_without_a_leader_and_such_streams_are_ended()
    {
        var hasLeader = new Metadata { { "hasleader", "true" } };
        using var channel = GrpcChannel.ForAddress(_cluster.ClientUrl("m3"));
        using var required = new Kvorum.Etcd.Api.Watch.WatchClient(channel).Watch(hasLeader);
        using var plain = new Kvorum.Etcd.Api.Watch.WatchClient(channel).Watch();
        await required.RequestStream.WriteAsync(CreateRequest("x"));
        await plain.RequestStream.WriteAsync(CreateRequest("x"));
        Assert.True((await NextAsync(required)).Created);
        Assert.True((await NextAsync(plain)).Created);

        await _cluster.StopAsync("m1");
        await _cluster.StopAsync("m2");
        var kv = new KV.KVClient(channel);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        RpcException? refused = null;
        while (refused is null && DateTime.UtcNow < deadline)
        {
            try
            {
                await kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("x"), Serializable = true }, hasLeader);
                await Task.Delay(100);
            }
            catch (RpcException e)
            {
                refused = e;
            }
        }
        Assert.NotNull(refused);
        Assert.True(EtcdErrors.NoLeader.Matches(refused), $"{refused.StatusCode}: {refused.Status.Detail}");
        // Without the key, a serializable read is still answered.
        await kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("x"), Serializable = true });

        var ended = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (await required.ResponseStream.MoveNext(timeout.Token))
            {
            }
        });
        Assert.True(EtcdErrors.NoLeader.Matches(ended), $"{ended.StatusCode}: {ended.Status.Detail}");
        await plain.RequestStream.WriteAsync(new WatchRequest { CancelRequest = new WatchCancelRequest { WatchId = 0 } });
        Assert.True((await NextAsync(plain)).Canceled); // the plain stream kept going
    }
}
