using Google.Protobuf;
using Grpc.Core;
using Kvorum.Etcd.Api;
using Kvorum.Lab.Checking;
using Kvorum.Lab.Nodes;

namespace Kvorum.Lab.Jepsen;

/// <summary>
/// One watcher of <c>kvorum lab check --workload watch</c>: watches the whole key space on a random member and
/// records every event in <see cref="Log"/>. When its stream breaks (the member was killed, cut off long enough
/// for the connection's keep-alive to fail, or, with require-leader, lost its leader) it resumes on another
/// member from its last revision + 1, as etcd's clients do. The check then compares what every watcher saw.
/// </summary>
/// <param name="client">Calls to the members.</param>
/// <param name="log">Where it records what it sees; only this watcher writes to it.</param>
/// <param name="nodes">The members it may watch on, 1..nodes.</param>
/// <param name="fromFirstRevision">Start at revision 1 (replaying the whole history) instead of "now".</param>
/// <param name="requireLeader">Send etcd's require-leader metadata.</param>
/// <param name="random">This watcher's generator.</param>
internal sealed class CheckWatcher(LabClient client, WatcherLog log, int nodes, bool fromFirstRevision, bool requireLeader, Random random)
{
    private static readonly ByteString WholeKeySpace = ByteString.CopyFrom(0);

    /// <summary>What it saw.</summary>
    public WatcherLog Log => log;

    /// <summary>Watches until <paramref name="stop"/> fires or the server cancels the watch for good.</summary>
    /// <param name="stop">Ends the watch.</param>
    public async Task RunAsync(CancellationToken stop)
    {
        long next = fromFirstRevision ? 1 : 0;
        var node = random.Next(1, nodes + 1);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var call = client.Watch(node, requireLeader, stop);
                await call.RequestStream.WriteAsync(new WatchRequest
                {
                    CreateRequest = new WatchCreateRequest { Key = WholeKeySpace, RangeEnd = WholeKeySpace, StartRevision = next },
                }, stop).ConfigureAwait(false);
                while (await call.ResponseStream.MoveNext(stop).ConfigureAwait(false))
                {
                    var response = call.ResponseStream.Current;
                    if (response.Created && next == 0)
                        next = response.Header.Revision + 1;
                    if (response.Created && log.StartRevision == 0)
                        log.StartRevision = next;
                    if (response.CompactRevision > 0)
                    {
                        log.Failure = $"the watch from r{next} on member {node} was cancelled: compacted at r{response.CompactRevision}";
                        return;
                    }

                    if (response.Canceled)
                        break; // ended by the member (e.g. no leader): resume elsewhere
                    foreach (var e in response.Events)
                    {
                        var isDelete = e.Type == Event.Types.EventType.Delete;
                        log.Add(new WatchedEvent(e.Kv.ModRevision, e.Kv.Key.ToStringUtf8(), isDelete, isDelete ? null : e.Kv.Value.ToStringUtf8()));
                        next = e.Kv.ModRevision + 1;
                    }
                }
            }
            catch (RpcException) when (!stop.IsCancellationRequested)
            {
                // The stream broke; resume below.
            }
            catch (Exception e) when (e is OperationCanceledException or RpcException && stop.IsCancellationRequested)
            {
                return;
            }

            if (stop.IsCancellationRequested)
                return;
            log.Resumes++;
            node = nodes == 1 ? 1 : ((node + random.Next(1, nodes) - 1) % nodes) + 1; // another member
            await Task.Delay(100, CancellationToken.None).ConfigureAwait(false);
        }
    }
}
