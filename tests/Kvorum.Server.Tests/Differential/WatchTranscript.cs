using Google.Protobuf;
using Grpc.Core;
using Kvorum.Etcd.Api;
using WatchApi = Kvorum.Etcd.Api.Watch;

namespace Kvorum.Server.Tests.Differential;

/// <summary>
/// One Watch stream to one server, and everything it answered, per watch: the watches are numbered in the order they
/// were created (the n-th create is answered by the n-th <c>created</c> response), and each watch's transcript is its
/// created answer, each of its events on its own (servers may batch events into responses differently), and any
/// later cancel answer. Progress notifications are left out (they come when a clock says). A reader task collects the
/// responses as they come.
/// </summary>
internal sealed class WatchTranscript : IAsyncDisposable
{
    private readonly AsyncDuplexStreamingCall<WatchRequest, WatchResponse> _call;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reading;
    private readonly object _gate = new();
    private readonly List<List<IMessage>> _watches = [];
    private readonly Dictionary<long, int> _ordinalById = [];
    private readonly List<long> _idByOrdinal = [];
    private int _creates;
    private string? _ended;

    public WatchTranscript(CallInvoker invoker)
    {
        _call = new WatchApi.WatchClient(invoker).Watch(cancellationToken: _stop.Token);
        _reading = Task.Run(ReadAsync);
    }

    /// <summary>How the stream ended, if it did before it was disposed (an error).</summary>
    public string? Ended
    {
        get
        {
            lock (_gate)
                return _ended;
        }
    }

    /// <summary>Sends a create request; its answer will open the next watch's transcript.</summary>
    public async Task CreateAsync(WatchCreateRequest create)
    {
        lock (_gate)
        {
            _creates++;
            _watches.Add([]);
        }
        await _call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = create });
    }

    /// <summary>True once watch <paramref name="ordinal"/> has its created answer.</summary>
    public bool IsAnswered(int ordinal)
    {
        lock (_gate)
            return ordinal < _idByOrdinal.Count;
    }

    /// <summary>Cancels watch <paramref name="ordinal"/> by the id this server gave it (which must have come).</summary>
    public async Task CancelAsync(int ordinal)
    {
        long id;
        lock (_gate)
            id = _idByOrdinal[ordinal];
        await _call.RequestStream.WriteAsync(new WatchRequest { CancelRequest = new WatchCancelRequest { WatchId = id } });
    }

    /// <summary>How many items each watch's transcript has now.</summary>
    public int[] Counts()
    {
        lock (_gate)
            return [.. _watches.Select(w => w.Count)];
    }

    /// <summary>A copy of watch <paramref name="ordinal"/>'s transcript.</summary>
    public IReadOnlyList<IMessage> Transcript(int ordinal)
    {
        lock (_gate)
            return ordinal < _watches.Count ? [.. _watches[ordinal]] : [];
    }

    private async Task ReadAsync()
    {
        try
        {
            while (await _call.ResponseStream.MoveNext(_stop.Token))
                Record(_call.ResponseStream.Current);
        }
        catch (RpcException e) when (_stop.IsCancellationRequested || e.StatusCode == StatusCode.Cancelled)
        {
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (RpcException e)
        {
            lock (_gate)
                _ended = $"{e.StatusCode}: {e.Status.Detail}";
        }
    }

    private void Record(WatchResponse response)
    {
        lock (_gate)
        {
            if (response.Created)
            {
                var ordinal = _idByOrdinal.Count;
                if (ordinal >= _creates)
                {
                    _ended = $"a created answer with no create request: {response}";
                    return;
                }
                _idByOrdinal.Add(response.WatchId);
                _ordinalById[response.WatchId] = ordinal;
                _watches[ordinal].Add(Control(response, keepRevision: true));
                return;
            }
            if (!_ordinalById.TryGetValue(response.WatchId, out var watch))
            {
                _ended = $"an answer for watch {response.WatchId}, which was never created: {response}";
                return;
            }
            if (response.Events.Count > 0)
            {
                foreach (var e in response.Events)
                    _watches[watch].Add(e.Clone());
            }
            else if (response.Canceled || response.CompactRevision != 0)
            {
                // A cancel's header holds the revision when it was asked for (the run is quiet then); a compaction's
                // comes when the server's catch-up gets to it.
                _watches[watch].Add(Control(response, keepRevision: response.CompactRevision == 0));
            }
        }
    }

    /// <summary>
    /// A control answer as compared: its flags, id, reason and compaction, with the header's revision only (cluster,
    /// member and term differ between servers).
    /// </summary>
    private static WatchResponse Control(WatchResponse response, bool keepRevision) => new()
    {
        Header = new ResponseHeader { Revision = keepRevision ? response.Header?.Revision ?? 0 : 0 },
        WatchId = response.WatchId,
        Created = response.Created,
        Canceled = response.Canceled,
        CancelReason = response.CancelReason,
        CompactRevision = response.CompactRevision,
    };

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _reading.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
        }
        _call.Dispose();
        _stop.Dispose();
    }
}
