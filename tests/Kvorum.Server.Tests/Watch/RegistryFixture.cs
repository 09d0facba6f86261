using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Watch;

namespace Kvorum.Server.Tests.Watch;

/// <summary>
/// A store and its watcher registry driven by hand, as the member loop drives them: catch-up work that a member runs
/// on the thread pool and posts back is queued here and run by <see cref="RunCatchUp"/>, so a test decides when a
/// batch is built and when it is handed over.
/// </summary>
internal sealed class RegistryFixture
{
    private readonly Queue<Action> _offLoop = new();
    private readonly Queue<Action> _posted = new();

    public RegistryFixture()
    {
        Registry = new WatcherRegistry(Store, _offLoop.Enqueue, _posted.Enqueue);
    }

    public MvccStore Store { get; } = new();

    public WatcherRegistry Registry { get; }

    public WatchStream Open()
    {
        var stream = new WatchStream();
        Registry.Open(stream);
        return stream;
    }

    public void Put(string key, string value) =>
        Store.Put(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) });

    public void Delete(string key) => Store.DeleteRange(new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(key) });

    public void Compact(long revision) => Store.Compact(new CompactionRequest { Revision = revision });

    public static WatchCreateRequest Create(string key, string rangeEnd = "", long start = 0, long id = 0) => new()
    {
        Key = ByteString.CopyFromUtf8(key),
        RangeEnd = ByteString.CopyFromUtf8(rangeEnd),
        StartRevision = start,
        WatchId = id,
    };

    /// <summary>One catch-up pass with its batches built (off the loop) and handed over (on the loop).</summary>
    public void RunCatchUp()
    {
        Registry.CatchUpPass();
        while (_offLoop.TryDequeue(out var work))
            work();
        while (_posted.TryDequeue(out var work))
            work();
    }

    /// <summary>Starts a pass and builds its batches, without handing them over.</summary>
    public void BuildCatchUpOnly()
    {
        Registry.CatchUpPass();
        while (_offLoop.TryDequeue(out var work))
            work();
    }

    /// <summary>Hands over what <see cref="BuildCatchUpOnly"/> built.</summary>
    public void HandOver()
    {
        while (_posted.TryDequeue(out var work))
            work();
    }

    /// <summary>Runs what was posted to the loop and what that started off it, until nothing is left, without a pass.</summary>
    public void RunPosted()
    {
        while (_posted.Count > 0 || _offLoop.Count > 0)
        {
            while (_offLoop.TryDequeue(out var work))
                work();
            while (_posted.TryDequeue(out var work))
                work();
        }
    }

    /// <summary>
    /// What the stream's writer sends now, as the writer does: lowering each watcher's pending count and, when a
    /// watcher waiting for its stream to drain has nothing queued any more, posting its next catch-up to the loop.
    /// </summary>
    public List<WatchResponse> Send(WatchStream stream)
    {
        var sent = new List<WatchResponse>();
        while (stream.Outgoing.TryRead(out var item))
        {
            if (item.Watcher is { } watcher)
            {
                watcher.Pending.Remove(item.Bytes);
                if (watcher.TakeDrained())
                    _posted.Enqueue(() => Registry.CatchUpDrained(watcher));
            }
            sent.Add(item.Response);
        }
        return sent;
    }

    /// <summary>What the stream's writer would send now, as it sends it (lowering each watcher's pending count).</summary>
    public static List<WatchResponse> Drain(WatchStream stream)
    {
        var sent = new List<WatchResponse>();
        while (stream.Outgoing.TryRead(out var item))
        {
            item.Watcher?.Pending.Remove(item.Bytes);
            sent.Add(item.Response);
        }
        return sent;
    }
}
