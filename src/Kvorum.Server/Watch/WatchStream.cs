using System.Threading.Channels;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;

namespace Kvorum.Server.Watch;

/// <summary>
/// One Watch stream as the member loop sees it: its watchers by id, the cursor for the ids the server picks, and the
/// queue of responses its gRPC writer sends in order. Everything a stream is answered goes through this one queue, and
/// only the loop puts into it, so the order of answers is the order of the loop: a watcher's <c>created</c> before its
/// events, its events in revision order, a progress answer after the events it reports on.
/// </summary>
/// <remarks>
/// <see cref="Watchers"/>, <see cref="NextAutoId"/> and <see cref="Closed"/> are owned by the member loop
/// (<see cref="Node.LoopOwner"/>); <see cref="Outgoing"/> is read by the stream's writer only.
/// </remarks>
internal sealed class WatchStream
{
    private readonly Channel<OutgoingResponse> _queue =
        Channel.CreateUnbounded<OutgoingResponse>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>The stream's watchers by id.</summary>
    public Dictionary<long, Watcher> Watchers { get; } = [];

    /// <summary>The first id the server may pick next: ids start at 0, and a client asking for id 0 asks the server to pick.</summary>
    public long NextAutoId { get; set; }

    /// <summary>True once the stream has ended: nothing more is registered on it.</summary>
    public bool Closed { get; set; }

    /// <summary>The responses to send, in order; ends (with the error, if any) when the stream is ended.</summary>
    public ChannelReader<OutgoingResponse> Outgoing => _queue.Reader;

    /// <summary>Queues <paramref name="response"/>, counted against <paramref name="watcher"/>'s bound when it is given.</summary>
    public void Send(WatchResponse response, Watcher? watcher = null, long bytes = 0)
    {
        watcher?.Pending.Add(bytes);
        if (!_queue.Writer.TryWrite(new OutgoingResponse(response, watcher, bytes)))
            watcher?.Pending.Remove(bytes);
    }

    /// <summary>Ends the queue: the writer sends what is queued, then ends the call with <paramref name="error"/>, if any.</summary>
    public void End(EtcdError? error) => _queue.Writer.TryComplete(error is null ? null : new EtcdException(error));
}

/// <summary>A response queued on a <see cref="WatchStream"/>, with the watcher whose bound it counts against.</summary>
/// <param name="Response">The response.</param>
/// <param name="Watcher">The watcher it belongs to, for event responses; null for answers outside the bound.</param>
/// <param name="Bytes">Its size as counted in the watcher's <see cref="PendingCount"/>.</param>
internal readonly record struct OutgoingResponse(WatchResponse Response, Watcher? Watcher, long Bytes);
