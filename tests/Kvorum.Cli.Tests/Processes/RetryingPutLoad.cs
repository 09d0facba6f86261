using System.Collections.Concurrent;
using System.Diagnostics;
using Google.Protobuf;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// A steady stream of puts at a fixed rate, as a client with several endpoints makes them: a put that
/// fails or times out is retried on the next member, so the stream goes on through a failover. Every acknowledged put
/// is recorded with the revision its answer carried. A put that timed out may still have been applied, so the store
/// can hold more puts than were acknowledged, never fewer.
/// </summary>
internal sealed class RetryingPutLoad
{
    private readonly IReadOnlyList<(string Name, GrpcChannel Channel)> _members;
    private readonly IReadOnlyList<string> _keys;
    private readonly double _perSecond;
    private int _preferred;

    /// <param name="members">Every member, with a channel of the load's own.</param>
    /// <param name="keys">The keys written, in turn.</param>
    /// <param name="perSecond">The put rate.</param>
    public RetryingPutLoad(IReadOnlyList<(string Name, GrpcChannel Channel)> members, IReadOnlyList<string> keys, double perSecond)
    {
        _members = members;
        _keys = keys;
        _perSecond = perSecond;
    }

    /// <summary>One acknowledged put.</summary>
    public sealed record Acknowledged(string Key, string Value, long Revision);

    /// <summary>The acknowledged puts, in the order they were acknowledged.</summary>
    public ConcurrentQueue<Acknowledged> Acked { get; } = new();

    /// <summary>Attempts that failed and were retried elsewhere.</summary>
    public int Retries => _retries;

    private int _retries;

    /// <summary>
    /// Puts until <paramref name="stop"/> is cancelled, starting each on time while fewer than
    /// <see cref="MaxInFlight"/> are unanswered (so a slow answer does not lower the rate); returns once every put
    /// started has ended.
    /// </summary>
    public async Task RunAsync(CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        using var slots = new SemaphoreSlim(MaxInFlight);
        var puts = new List<Task>();
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var due = TimeSpan.FromSeconds(i / _perSecond);
            try
            {
                if (due > clock.Elapsed)
                    await Task.Delay(due - clock.Elapsed, stop);
                await slots.WaitAsync(stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            var key = _keys[i % _keys.Count];
            var value = $"v{i:D6}";
            puts.Add(Task.Run(async () =>
            {
                try
                {
                    if (await PutAsync(key, value, stop) is { } revision)
                        Acked.Enqueue(new Acknowledged(key, value, revision));
                }
                finally
                {
                    slots.Release();
                }
            }, CancellationToken.None));
        }
        await Task.WhenAll(puts);
    }

    /// <summary>Puts started and not yet answered, at most.</summary>
    public const int MaxInFlight = 16;

    /// <summary>
    /// One put, retried on the members in turn (starting with the one that answered last) until one acknowledges it;
    /// the revision it was given, or null once <paramref name="stop"/> is cancelled.
    /// </summary>
    public async Task<long?> PutAsync(string key, string value, CancellationToken stop)
    {
        var request = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) };
        while (!stop.IsCancellationRequested)
        {
            var (_, channel) = _members[Volatile.Read(ref _preferred) % _members.Count];
            try
            {
                var answer = await new KV.KVClient(channel).PutAsync(request, deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: stop);
                return answer.Header.Revision;
            }
            catch (Grpc.Core.RpcException) when (!stop.IsCancellationRequested)
            {
                Interlocked.Increment(ref _retries);
                Interlocked.Increment(ref _preferred);
            }
            catch (Grpc.Core.RpcException)
            {
                return null;
            }
            catch (OperationCanceledException)
            {
                return null;
            }
            // A cluster without a leader answers at once; do not spin while it elects one.
            try
            {
                await Task.Delay(50, stop);
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }
        return null;
    }
}
