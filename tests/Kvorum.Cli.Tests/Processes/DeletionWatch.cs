using System.Collections.Concurrent;
using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// A watch on one member for the deletions under a prefix: when each key's delete event arrived, and at which
/// revision. It is how a test sees a lease expire on every member, and when. It ends with its member's stream.
/// </summary>
internal sealed class DeletionWatch : IDisposable
{
    private readonly AsyncDuplexStreamingCall<WatchRequest, WatchResponse> _call;
    private readonly TaskCompletionSource _created = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>One deletion as this member reported it.</summary>
    public sealed record Deletion(long Revision, long ArrivedAt);

    private DeletionWatch(string member, GrpcChannel channel)
    {
        Member = member;
        _call = new Watch.WatchClient(channel).Watch();
    }

    public string Member { get; }

    /// <summary>The deletions seen so far, by key; <see cref="Deletion.ArrivedAt"/> in <see cref="Stopwatch"/> ticks.</summary>
    public ConcurrentDictionary<string, Deletion> Deletions { get; } = new();

    /// <summary>The reader; ends when the stream does.</summary>
    public Task Reader { get; private set; } = Task.CompletedTask;

    /// <summary>Opens the watch on <paramref name="prefix"/> from <paramref name="startRevision"/> and waits until it is created.</summary>
    public static async Task<DeletionWatch> OpenAsync(string member, GrpcChannel channel, string prefix, long startRevision)
    {
        var watch = new DeletionWatch(member, channel);
        var end = prefix[..^1] + (char)(prefix[^1] + 1);
        await watch._call.RequestStream.WriteAsync(new WatchRequest
        {
            CreateRequest = new WatchCreateRequest
            {
                Key = ByteString.CopyFromUtf8(prefix),
                RangeEnd = ByteString.CopyFromUtf8(end),
                StartRevision = startRevision,
                Filters = { WatchCreateRequest.Types.FilterType.Noput },
            },
        });
        watch.Reader = Task.Run(watch.ReadAsync);
        await watch._created.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return watch;
    }

    /// <summary>Waits until every one of <paramref name="keys"/> was seen deleted, or <paramref name="timeout"/> passes.</summary>
    public async Task<bool> WaitForAsync(IEnumerable<string> keys, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        var wanted = keys.ToList();
        while (!wanted.All(Deletions.ContainsKey))
        {
            if (Stopwatch.GetTimestamp() > deadline)
                return false;
            await Task.Delay(10);
        }
        return true;
    }

    public void Dispose() => _call.Dispose();

    private async Task ReadAsync()
    {
        try
        {
            while (await _call.ResponseStream.MoveNext())
            {
                var now = Stopwatch.GetTimestamp();
                var response = _call.ResponseStream.Current;
                if (response.Created)
                    _created.TrySetResult();
                foreach (var e in response.Events.Where(e => e.Type == Event.Types.EventType.Delete))
                    Deletions.TryAdd(e.Kv.Key.ToStringUtf8(), new Deletion(e.Kv.ModRevision, now));
            }
        }
        catch (RpcException)
        {
            // The member went away or the watch was disposed: what it saw stays.
        }
        _created.TrySetException(new InvalidOperationException($"the watch on {Member} ended before it was created"));
    }
}
