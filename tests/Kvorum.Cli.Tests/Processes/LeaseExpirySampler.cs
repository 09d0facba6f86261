using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// Measures when abandoned leases expire, on any etcd-compatible cluster (Kvorum or etcd): a round grants leases
/// in parallel, attaches one key to each, sends each lease one keep-alive (through the members in turn) and then
/// none, and watches every member for the keys' deletions. A lease's sample is how long after TTL its key went.
/// </summary>
internal static class LeaseExpirySampler
{
    /// <summary>One abandoned lease.</summary>
    /// <param name="Id">The lease.</param>
    /// <param name="AckedAt">When its keep-alive's answer came (<see cref="Stopwatch"/> ticks).</param>
    /// <param name="AfterAck">The last member's deletion event, less the answer's arrival, less the TTL.</param>
    /// <param name="AfterSend">The first member's deletion event, less the keep-alive's send, less the TTL: never
    /// negative, since the server renewed the lease after the send.</param>
    /// <param name="Revisions">The revisions at which the members deleted the key.</param>
    public sealed record Sample(long Id, long AckedAt, TimeSpan AfterAck, TimeSpan AfterSend, IReadOnlyList<long> Revisions);

    /// <summary>
    /// Runs one round of <paramref name="count"/> leases under <paramref name="prefix"/>. <paramref name="afterKeepAlives"/>
    /// runs once every keep-alive is answered (a test kills the leader there) and returns the members whose deletions
    /// count; by default all of them.
    /// </summary>
    public static async Task<List<Sample>> RoundAsync(
        IReadOnlyList<(string Name, GrpcChannel Channel)> members, string prefix, int count, long ttlSeconds,
        Func<Task<IReadOnlyCollection<string>>>? afterKeepAlives = null)
    {
        var channels = members.Select(m => m.Channel).ToList();
        var grants = await Task.WhenAll(Enumerable.Range(0, count).Select(i => AnyMember.CallAsync(Rotate(channels, i),
            (c, d) => new Lease.LeaseClient(c).LeaseGrantAsync(new LeaseGrantRequest { TTL = ttlSeconds }, deadline: d).ResponseAsync,
            TimeSpan.FromSeconds(20))));
        var puts = await Task.WhenAll(grants.Select((g, i) =>
        {
            var request = new PutRequest { Key = ByteString.CopyFromUtf8(KeyOf(prefix, i)), Value = ByteString.CopyFromUtf8("v"), Lease = g.ID };
            return AnyMember.CallAsync(Rotate(channels, i), (c, d) => new KV.KVClient(c).PutAsync(request, deadline: d).ResponseAsync, TimeSpan.FromSeconds(20));
        }));
        var from = puts.Max(p => p.Header.Revision) + 1;
        var watches = new List<DeletionWatch>();
        try
        {
            foreach (var (name, channel) in members)
                watches.Add(await DeletionWatch.OpenAsync(name, channel, prefix, from));
            var keptAlive = await Task.WhenAll(grants.Select((g, i) => KeepAliveOnceAsync(channels[i % channels.Count], g.ID)));
            var observers = afterKeepAlives is null ? members.Select(m => m.Name).ToHashSet() : [.. await afterKeepAlives()];
            var watching = watches.Where(w => observers.Contains(w.Member)).ToList();
            var keys = Enumerable.Range(0, count).Select(i => KeyOf(prefix, i)).ToList();
            foreach (var w in watching)
            {
                if (!await w.WaitForAsync(keys, TimeSpan.FromSeconds(ttlSeconds + 30)))
                    throw new TimeoutException($"{w.Member} saw {w.Deletions.Count} of {count} keys deleted within TTL + 30 s");
            }
            var ttl = TimeSpan.FromSeconds(ttlSeconds);
            return [.. grants.Select((g, i) =>
            {
                var seen = watching.Select(w => w.Deletions[keys[i]]).ToList();
                var (sent, acked) = keptAlive[i];
                return new Sample(g.ID, acked,
                    Elapsed(acked, seen.Max(d => d.ArrivedAt)) - ttl,
                    Elapsed(sent, seen.Min(d => d.ArrivedAt)) - ttl,
                    [.. seen.Select(d => d.Revision)]);
            })];
        }
        finally
        {
            watches.ForEach(w => w.Dispose());
        }
    }

    /// <summary>Minimum, median, 99th percentile and maximum, in milliseconds, with the sample count.</summary>
    public static string Describe(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Select(v => v.TotalMilliseconds).Order().ToList();
        if (sorted.Count == 0)
            return "no samples";
        double At(double q) => sorted[Math.Max(0, (int)Math.Ceiling(q * sorted.Count) - 1)];
        return string.Create(CultureInfo.InvariantCulture,
            $"min {sorted[0]:F0} p50 {At(0.5):F0} p99 {At(0.99):F0} max {sorted[^1]:F0} ms ({sorted.Count} samples)");
    }

    public static TimeSpan Elapsed(long from, long to) => TimeSpan.FromSeconds((double)(to - from) / Stopwatch.Frequency);

    private static string KeyOf(string prefix, int i) => $"{prefix}{i:D4}";

    private static List<GrpcChannel> Rotate(List<GrpcChannel> channels, int by) => [.. channels.Skip(by % channels.Count), .. channels.Take(by % channels.Count)];

    /// <summary>One keep-alive on a stream of its own: when it was sent and when its answer came.</summary>
    private static async Task<(long Sent, long Acked)> KeepAliveOnceAsync(GrpcChannel channel, long id)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var call = new Lease.LeaseClient(channel).LeaseKeepAlive(cancellationToken: timeout.Token);
        var sent = Stopwatch.GetTimestamp();
        await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = id }, timeout.Token);
        if (!await call.ResponseStream.MoveNext(timeout.Token))
            throw new InvalidOperationException($"the keep-alive stream for lease {id:x} ended without an answer");
        var acked = Stopwatch.GetTimestamp();
        if (call.ResponseStream.Current.TTL <= 0)
            throw new InvalidOperationException($"lease {id:x} was gone at its keep-alive");
        await call.RequestStream.CompleteAsync();
        return (sent, acked);
    }
}
