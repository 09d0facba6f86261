using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Bench;

/// <summary>
/// One watch stream of <c>kvorum bench watch</c> and the watchers on it. Its reader task is the only one that
/// touches the histograms and counters below until the run ends; creates are written by the runner, one at a time.
/// </summary>
internal sealed class WatchBenchStream : IDisposable
{
    private readonly AsyncDuplexStreamingCall<WatchRequest, WatchResponse> _call;
    private readonly WatchBenchRunner _runner;
    private readonly TaskCompletionSource _allCreated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<long, long> _lastRevision = [];
    private readonly int _watchers;
    private int _created;

    /// <summary>Opens the stream, on which <paramref name="watchers"/> watchers will be created, and starts reading it.</summary>
    public WatchBenchStream(Watch.WatchClient client, WatchBenchRunner runner, int watchers, CancellationToken life)
    {
        _runner = runner;
        _watchers = watchers;
        if (watchers == 0)
            _allCreated.TrySetResult();
        _call = client.Watch(cancellationToken: life);
        Reader = Task.Run(() => ReadAsync(life), CancellationToken.None);
    }

    /// <summary>The reader; ends when the stream does.</summary>
    public Task Reader { get; }

    /// <summary>
    /// Completes once all the stream's watchers are created. (Counting against those asked for so far completed it
    /// early whenever the server answered a create before the next was asked, and puts then came before some
    /// watchers existed: their events were counted as missing.)
    /// </summary>
    public Task AllCreated => _allCreated.Task;

    /// <summary>Latencies from the acknowledgements (valid once <see cref="Reader"/> ended).</summary>
    public LatencyHistogram FromAcknowledgement { get; } = new();

    /// <summary>Latencies from the sends (valid once <see cref="Reader"/> ended).</summary>
    public LatencyHistogram FromSend { get; } = new();

    /// <summary>Events that came before their put's acknowledgement.</summary>
    public long BeforeAcknowledgement { get; private set; }

    /// <summary>Events at or below a revision their watcher had already seen.</summary>
    public long Duplicates { get; private set; }

    /// <summary>Asks for one more watcher on <paramref name="key"/>, with a server-chosen id, from now on.</summary>
    public Task CreateAsync(ByteString key) =>
        _call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = key } });

    /// <inheritdoc/>
    public void Dispose() => _call.Dispose();

    private async Task ReadAsync(CancellationToken life)
    {
        try
        {
            while (await _call.ResponseStream.MoveNext(life).ConfigureAwait(false))
            {
                var response = _call.ResponseStream.Current;
                var now = Stopwatch.GetTimestamp();
                if (response.Created)
                {
                    if (++_created >= _watchers)
                        _allCreated.TrySetResult();
                    continue;
                }

                if (response.Canceled)
                {
                    _allCreated.TrySetException(new InvalidOperationException($"the server cancelled watcher {response.WatchId}: {response.CancelReason}"));
                    continue;
                }

                foreach (var e in response.Events)
                {
                    var revision = e.Kv.ModRevision;
                    if (_lastRevision.TryGetValue(response.WatchId, out var last) && revision <= last)
                    {
                        Duplicates++;
                        continue;
                    }

                    _lastRevision[response.WatchId] = revision;
                    (var fromSend, var fromAck) = _runner.Arrived(revision, e.Kv.Value.Span, now);
                    FromSend.RecordMicroseconds(fromSend);
                    if (fromAck is { } micros)
                    {
                        FromAcknowledgement.RecordMicroseconds(micros);
                    }
                    else
                    {
                        BeforeAcknowledgement++;
                        FromAcknowledgement.RecordMicroseconds(0);
                    }
                }
            }
        }
        catch (RpcException) when (life.IsCancellationRequested)
        {
            // The run is over.
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
        catch (RpcException e)
        {
            _allCreated.TrySetException(e);
        }
    }
}
