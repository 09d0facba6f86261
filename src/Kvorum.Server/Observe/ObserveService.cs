using Grpc.Core;
using Kvorum.Server.Node;
using Wire = Kvorum.Server.Observe.Wire;

namespace Kvorum.Server.Observe;

/// <summary>
/// <c>kvorum.Observe/Events</c>: streams what this member's Raft core does to one watcher, from its queue
/// (<see cref="ObserverQueue"/>), until the watcher leaves or the member starts to stop
/// (<see cref="KvorumNode.EndClientStreamsAsync"/>).
/// </summary>
internal sealed class ObserveService(KvorumNode node) : Wire.Observe.ObserveBase
{
    public override async Task Events(Wire.EventsRequest request, IServerStreamWriter<Wire.ObserveEvent> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, node.ClientStreamsEnding);
        var cancellation = ended.Token;
        node.ClientStreamStarted();
        var queue = node.Subscribe();
        try
        {
            while (!cancellation.IsCancellationRequested && !node.Stopped.IsCompleted)
            {
                while (queue.TryTake(out var e))
                    await responseStream.WriteAsync(ObserveWireEvents.ToWire(e, node.MemberId), cancellation).ConfigureAwait(false);
                await Task.WhenAny(queue.WaitAsync(cancellation), node.Stopped).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
        }
        finally
        {
            node.Unsubscribe(queue);
            node.ClientStreamEnded();
        }
    }
}
