using System.Runtime.CompilerServices;
using Grpc.Core;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;

namespace Kvorum.Etcd.Recipes;

/// <summary>
/// One watcher on a Watch stream of its own: the create request goes out on opening, and the answers come back as
/// etcd's Go client hands them to its user: without the <c>created</c> answer, and ending after a <c>canceled</c> one.
/// Used by <c>kvorum watch</c> and by the lock and election recipes (the CLI's and the server's), which wait for a key's deletion.
/// </summary>
internal sealed class KeyWatch : IDisposable
{
    private readonly AsyncDuplexStreamingCall<WatchRequest, WatchResponse> _call;
    private readonly SemaphoreSlim _writes = new(1, 1);
    private readonly Task _created;

    private KeyWatch(ChannelBase channel, WatchCreateRequest create, CancellationToken cancellation)
    {
        // No deadline: a watch lasts as long as its user wants it.
        _call = new Watch.WatchClient(channel).Watch(cancellationToken: cancellation);
        _created = SendAsync(new WatchRequest { CreateRequest = create }, cancellation);
    }

    /// <summary>Opens a stream and asks for the watcher.</summary>
    /// <param name="channel">The channel to the server.</param>
    /// <param name="create">What to watch.</param>
    /// <param name="cancellation">Ends the watch (the stream is cancelled).</param>
    /// <returns>The watch; dispose it to end the stream.</returns>
    public static KeyWatch Open(ChannelBase channel, WatchCreateRequest create, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(create);
        return new KeyWatch(channel, create, cancellation);
    }

    /// <summary>Asks the server for a progress notification (etcdctl's interactive <c>progress</c>).</summary>
    /// <param name="cancellation">Cancels the write.</param>
    public Task RequestProgressAsync(CancellationToken cancellation) =>
        SendAsync(new WatchRequest { ProgressRequest = new WatchProgressRequest() }, cancellation);

    /// <summary>
    /// The answers after <c>created</c>: events, progress notifications, and at most one canceled answer, which is
    /// the last (a refused create comes as one such answer). The sequence also ends when the server ends the stream.
    /// </summary>
    /// <param name="cancellation">Stops reading.</param>
    /// <param name="includeCreated">Also the <c>created</c> answer, whose header says the revision the watch began at
    /// (a watch resumed elsewhere starts after it, <see cref="WatchResume"/>).</param>
    /// <returns>The answers.</returns>
    /// <exception cref="RpcException">The stream failed.</exception>
    public async IAsyncEnumerable<WatchResponse> ResponsesAsync([EnumeratorCancellation] CancellationToken cancellation, bool includeCreated = false)
    {
        await _created.ConfigureAwait(false);
        while (await _call.ResponseStream.MoveNext(cancellation).ConfigureAwait(false))
        {
            var response = _call.ResponseStream.Current;
            if (response.Canceled)
            {
                yield return response;
                yield break;
            }
            if (includeCreated || !response.Created)
                yield return response;
        }
    }

    /// <summary>
    /// Waits until <paramref name="key"/> is deleted at or after <paramref name="revision"/> (etcd's
    /// <c>waitDelete</c>, used by the lock and election recipes), on the first of <paramref name="channels"/> that
    /// works (<see cref="ResumingWatch"/>).
    /// </summary>
    /// <param name="channels">The channels to the members, in the order to try them.</param>
    /// <param name="key">The key.</param>
    /// <param name="revision">The first revision to look at.</param>
    /// <param name="cancellation">Stops waiting.</param>
    /// <exception cref="EtcdException">The server ended the watch first.</exception>
    /// <exception cref="RpcException">Every channel failed in a row.</exception>
    public static async Task WaitForDeleteAsync(IReadOnlyList<ChannelBase> channels, Google.Protobuf.ByteString key, long revision, CancellationToken cancellation)
    {
        await foreach (var response in ResumingWatch.ResponsesAsync(channels, new WatchCreateRequest { Key = key, StartRevision = revision }, cancellation).ConfigureAwait(false))
        {
            if (response.Events.Any(e => e.Type == Event.Types.EventType.Delete))
                return;
            if (response.Canceled)
                throw new EtcdException(EtcdErrors.WaitCanceled(CancelReason(response)));
        }
        cancellation.ThrowIfCancellationRequested();
        throw new EtcdException(EtcdErrors.LostWatcher);
    }

    /// <summary>
    /// Why the server cancelled a watch, as etcd's Go client words it: a compacted start revision, the reason the
    /// server sent, or else a future start revision (etcd sends that one without a reason).
    /// </summary>
    /// <param name="response">The canceled answer.</param>
    /// <returns>The text.</returns>
    public static string CancelReason(WatchResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (response.CompactRevision != 0)
            return EtcdErrors.Compacted.Message;
        return response.CancelReason.Length > 0 ? response.CancelReason : EtcdErrors.FutureRevision.Message;
    }

    private async Task SendAsync(WatchRequest request, CancellationToken cancellation)
    {
        await _writes.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            await _call.RequestStream.WriteAsync(request, cancellation).ConfigureAwait(false);
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _call.Dispose();
        _writes.Dispose();
    }
}
