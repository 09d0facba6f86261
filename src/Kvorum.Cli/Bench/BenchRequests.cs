using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Bench;

/// <summary>
/// One benchmark client's request: sends one and waits for its answer. Each client loop owns one instance, so an
/// instance may keep per-client state (a keep-alive stream, a lease) without locking.
/// </summary>
internal interface IBenchRequest : IAsyncDisposable
{
    /// <summary>Sends one request and waits for its answer; throws <see cref="RpcException"/> on failure.</summary>
    /// <param name="options">The call's cancellation (the watchdog's), never a deadline.</param>
    Task SendAsync(CallOptions options);
}

/// <summary>Creates the request of each <see cref="BenchKind"/> for one client.</summary>
internal static class BenchRequests
{
    /// <summary>The request one client of <paramref name="settings"/> sends over <paramref name="channel"/>.</summary>
    public static IBenchRequest Create(BenchSettings settings, GrpcChannel channel, ByteString value) => settings.Kind switch
    {
        BenchKind.Put => new PutRequestSender(settings, new KV.KVClient(channel), value),
        BenchKind.Range => new RangeRequestSender(settings, new KV.KVClient(channel)),
        BenchKind.LeaseGrant => new LeaseGrantSender(settings, new Lease.LeaseClient(channel)),
        BenchKind.LeaseKeepAlive => new LeaseKeepAliveSender(settings, new Lease.LeaseClient(channel)),
        _ => throw new ArgumentOutOfRangeException(nameof(settings), settings.Kind, "unknown bench kind"),
    };

    private sealed class PutRequestSender(BenchSettings settings, KV.KVClient client, ByteString value) : IBenchRequest
    {
        public async Task SendAsync(CallOptions options)
        {
            var key = settings.KeyOf(Random.Shared.NextInt64(settings.KeySpace));
            var request = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = value };
            await client.PutAsync(request, options).ResponseAsync.ConfigureAwait(false);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class RangeRequestSender(BenchSettings settings, KV.KVClient client) : IBenchRequest
    {
        public async Task SendAsync(CallOptions options)
        {
            var key = settings.KeyOf(Random.Shared.NextInt64(settings.KeySpace));
            var request = new RangeRequest { Key = ByteString.CopyFromUtf8(key), Serializable = settings.Serializable };
            await client.RangeAsync(request, options).ResponseAsync.ConfigureAwait(false);
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>Grants a new lease per request (the server picks the id), as etcd's benchmark tool does.</summary>
    private sealed class LeaseGrantSender(BenchSettings settings, Lease.LeaseClient client) : IBenchRequest
    {
        public async Task SendAsync(CallOptions options) =>
            await client.LeaseGrantAsync(new LeaseGrantRequest { TTL = settings.LeaseTtlSeconds }, options).ResponseAsync.ConfigureAwait(false);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>
    /// Grants one lease, then renews it over one keep-alive stream, one renewal in flight: a request is a
    /// keep-alive sent and its answer read. A failed stream is dropped and reopened (with a new lease) on the next
    /// request, since a cancelled bidirectional call cannot be resumed.
    /// </summary>
    private sealed class LeaseKeepAliveSender(BenchSettings settings, Lease.LeaseClient client) : IBenchRequest
    {
        private AsyncDuplexStreamingCall<LeaseKeepAliveRequest, LeaseKeepAliveResponse>? _stream;
        private CancellationTokenSource? _streamLife;
        private long _leaseId;

        public async Task SendAsync(CallOptions options)
        {
            try
            {
                if (_stream is null)
                {
                    var grant = await client.LeaseGrantAsync(new LeaseGrantRequest { TTL = settings.LeaseTtlSeconds }, options).ResponseAsync.ConfigureAwait(false);
                    _leaseId = grant.ID;
                    _streamLife = new CancellationTokenSource();
                    _stream = client.LeaseKeepAlive(new CallOptions(cancellationToken: _streamLife.Token));
                }

                // The watchdog's token cancels the whole stream: a renewal that never answers is lost with it.
                using var cancel = options.CancellationToken.Register(static life => ((CancellationTokenSource)life!).Cancel(), _streamLife!);
                await _stream.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = _leaseId }).ConfigureAwait(false);
                if (!await _stream.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false))
                    throw new RpcException(new Status(StatusCode.Unavailable, "the keep-alive stream ended"));
                if (_stream.ResponseStream.Current.TTL <= 0)
                    throw new RpcException(new Status(StatusCode.NotFound, "the lease expired"));
            }
            catch (RpcException)
            {
                await DropStreamAsync().ConfigureAwait(false);
                throw;
            }
            catch (InvalidOperationException e)
            {
                // Writing to a stream the watchdog cancelled: report it as the cancellation it is.
                await DropStreamAsync().ConfigureAwait(false);
                throw new RpcException(new Status(StatusCode.Cancelled, e.Message));
            }
        }

        public ValueTask DisposeAsync() => DropStreamAsync();

        private async ValueTask DropStreamAsync()
        {
            if (_stream is { } stream)
            {
                _stream = null;
                await _streamLife!.CancelAsync().ConfigureAwait(false);
                stream.Dispose();
                _streamLife.Dispose();
                _streamLife = null;
            }
        }
    }
}
