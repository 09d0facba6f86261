using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// One range watched from a start revision, and every event it has been given so far. Written only by the reader of
/// the <see cref="ResumingWatchStream"/> that holds it, read by the test once that reader has stopped or caught up.
/// </summary>
internal sealed class RecordedWatcher(string key, string rangeEnd, long startRevision)
{
    /// <summary>One event as the watcher got it.</summary>
    public sealed record Seen(long Revision, Event.Types.EventType Type, string Key, string Value);

    public string Key { get; } = key;

    /// <summary>Empty for one key, <c>"\0"</c> for every key from <see cref="Key"/> on, else the exclusive end.</summary>
    public string RangeEnd { get; } = rangeEnd;

    public long StartRevision { get; } = startRevision;

    public List<Seen> Events { get; } = [];

    /// <summary>The revision of the last event seen; 0 before the first.</summary>
    public long LastRevision => Volatile.Read(ref _lastRevision);

    private long _lastRevision;

    /// <summary>Where a new stream resumes this watcher: after its last event, or at its start.</summary>
    public long ResumeRevision => LastRevision > 0 ? LastRevision + 1 : StartRevision;

    /// <summary>True when <paramref name="key"/> is in the watched range.</summary>
    public bool Covers(string key) =>
        RangeEnd.Length == 0 ? key == Key
        : string.CompareOrdinal(key, Key) >= 0 && (RangeEnd == "\0" || string.CompareOrdinal(key, RangeEnd) < 0);

    public void Add(Event e)
    {
        Events.Add(new Seen(e.Kv.ModRevision, e.Type, e.Kv.Key.ToStringUtf8(), e.Kv.Value.ToStringUtf8()));
        Volatile.Write(ref _lastRevision, e.Kv.ModRevision);
    }

    public override string ToString() =>
        $"[{Key}, {(RangeEnd == "\0" ? "\\0" : RangeEnd)}) from {StartRevision}";
}

/// <summary>
/// A watch stream with many watchers that a client keeps alive across member failures, as etcd's clients do: when
/// the stream ends it opens a new one on the member its member picker names, and creates every watcher
/// again from its last revision + 1 (or its start revision if it has seen nothing). Watch ids are chosen by the client
/// (the watcher's index + 1), so an answer names its watcher on every stream.
/// </summary>
internal sealed class ResumingWatchStream
{
    private readonly IReadOnlyDictionary<string, GrpcChannel> _channels;
    private readonly Func<string, string> _pickMember;
    private readonly List<string> _problems = [];
    private int _created;

    /// <param name="channels">A channel to every member, by name.</param>
    /// <param name="firstMember">The member the stream starts on.</param>
    /// <param name="pickMember">Given the member whose stream ended, the member to try next.</param>
    /// <param name="watchers">The watchers of this stream.</param>
    public ResumingWatchStream(
        IReadOnlyDictionary<string, GrpcChannel> channels, string firstMember, Func<string, string> pickMember, IReadOnlyList<RecordedWatcher> watchers)
    {
        _channels = channels;
        _pickMember = pickMember;
        FirstMember = firstMember;
        Watchers = watchers;
    }

    public string FirstMember { get; }

    public IReadOnlyList<RecordedWatcher> Watchers { get; }

    /// <summary>Every member the stream was opened on, in order, with why the previous one ended.</summary>
    public List<string> History { get; } = [];

    /// <summary>Times the stream ended and was opened again.</summary>
    public int Resumptions { get; private set; }

    /// <summary>Watchers whose creation the current stream has confirmed.</summary>
    public int Created => Volatile.Read(ref _created);

    /// <summary>What went wrong that a resumption cannot explain (a watcher cancelled by the server, say).</summary>
    public IReadOnlyList<string> Problems
    {
        get
        {
            lock (_problems)
                return [.. _problems];
        }
    }

    /// <summary>Keeps the stream open, resuming it after each end, until <paramref name="stop"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var member = FirstMember;
        while (!stop.IsCancellationRequested)
        {
            History.Add(member);
            string ended;
            try
            {
                await WatchOnAsync(_channels[member], stop);
                ended = "the server ended the stream";
            }
            catch (RpcException e) when (!stop.IsCancellationRequested)
            {
                ended = $"{e.StatusCode}: {e.Status.Detail}";
            }
            catch (RpcException)
            {
                return;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            if (stop.IsCancellationRequested)
                return;
            Resumptions++;
            History.Add($"({ended})");
            member = _pickMember(member);
            try
            {
                await Task.Delay(100, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task WatchOnAsync(GrpcChannel channel, CancellationToken stop)
    {
        using var call = new Watch.WatchClient(channel).Watch(cancellationToken: stop);
        Volatile.Write(ref _created, 0);
        for (var i = 0; i < Watchers.Count; i++)
        {
            var w = Watchers[i];
            await call.RequestStream.WriteAsync(new WatchRequest
            {
                CreateRequest = new WatchCreateRequest
                {
                    Key = ByteString.CopyFromUtf8(w.Key),
                    RangeEnd = ByteString.CopyFromUtf8(w.RangeEnd),
                    StartRevision = w.ResumeRevision,
                    WatchId = i + 1,
                },
            }, stop);
        }
        while (await call.ResponseStream.MoveNext(stop))
        {
            var response = call.ResponseStream.Current;
            if (response.WatchId < 1 || response.WatchId > Watchers.Count)
            {
                Problem($"an answer for watch id {response.WatchId}, which this stream never created");
                continue;
            }
            if (response.Created)
                Interlocked.Increment(ref _created);
            if (response.Canceled)
                Problem($"watcher {response.WatchId} cancelled: {response.CancelReason} (compact revision {response.CompactRevision})");
            var watcher = Watchers[(int)response.WatchId - 1];
            foreach (var e in response.Events)
                watcher.Add(e);
        }
    }

    private void Problem(string text)
    {
        lock (_problems)
            _problems.Add(text);
    }
}
