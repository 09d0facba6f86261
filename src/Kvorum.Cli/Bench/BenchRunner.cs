using System.Collections.Concurrent;
using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Cli.Client;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Bench;

/// <summary>
/// Drives <see cref="BenchSettings.Clients"/> closed-loop clients (one request in flight each) over
/// <see cref="BenchSettings.Conns"/> shared channels, speaking only etcd's KV API so it can target etcd too.
/// </summary>
public sealed class BenchRunner
{
    private readonly BenchSettings settings;
    private readonly TextWriter progress;
    private readonly ConcurrentDictionary<StatusCode, long> errors = new();
    private readonly ByteString value;
    private long issued;
    private long completed;

    /// <summary>Creates a runner.</summary>
    /// <param name="settings">Validated settings.</param>
    /// <param name="progress">Where the once-a-second progress lines go (stderr).</param>
    public BenchRunner(BenchSettings settings, TextWriter progress)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(progress);
        this.settings = settings;
        this.progress = progress;
        byte[] bytes = new byte[settings.ValueSize];
        Random.Shared.NextBytes(bytes);
        value = ByteString.CopyFrom(bytes);
    }

    /// <summary>How often a progress line is printed.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Runs until the total is sent, the duration is over, or <paramref name="cancellation"/> fires.</summary>
    /// <param name="cancellation">Stops the run early; the summary covers what was done.</param>
    /// <returns>The summary.</returns>
    public async Task<BenchSummary> RunAsync(CancellationToken cancellation)
    {
        GrpcChannel[] channels = [.. Enumerable.Range(0, settings.Conns)
            .Select(i => EtcdConnection.OpenChannel(settings.Endpoints[i % settings.Endpoints.Count], settings.DialTimeout))];
        try
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            if (settings.Duration is { } duration)
                stop.CancelAfter(duration);
            long total = settings.Total ?? (settings.Duration is null ? 10_000 : long.MaxValue);

            var histograms = Enumerable.Range(0, settings.Clients).Select(_ => new LatencyHistogram()).ToArray();
            TimeSpan cpuAtStart = Environment.CpuUsage.TotalTime;
            Stopwatch clock = Stopwatch.StartNew();
            using var progressStop = new CancellationTokenSource();
            Task reporter = ReportProgressAsync(clock, progressStop.Token);
            await using var watchdog = new RequestWatchdog(settings.Clients, settings.RequestTimeout);
            using var stopping = stop.Token.Register(watchdog.CancelAll);
            Task[] clients = [.. Enumerable.Range(0, settings.Clients)
                .Select(i => Task.Run(() => ClientLoopAsync(new KV.KVClient(channels[i % channels.Length]), watchdog, i, histograms[i], total, stop.Token), CancellationToken.None))];
            await Task.WhenAll(clients).ConfigureAwait(false);
            TimeSpan elapsed = clock.Elapsed;
            TimeSpan cpu = Environment.CpuUsage.TotalTime - cpuAtStart;
            await progressStop.CancelAsync().ConfigureAwait(false);
            await reporter.ConfigureAwait(false);

            var merged = new LatencyHistogram();
            foreach (LatencyHistogram histogram in histograms)
                merged.Merge(histogram);
            return new BenchSummary
            {
                Kind = settings.Kind,
                Succeeded = merged.Count,
                Errors = new Dictionary<StatusCode, long>(errors),
                Elapsed = elapsed,
                Latencies = merged,
                ClientCpu = cpu,
            };
        }
        finally
        {
            foreach (GrpcChannel channel in channels)
                channel.Dispose();
        }
    }

    private async Task ClientLoopAsync(KV.KVClient client, RequestWatchdog watchdog, int slot, LatencyHistogram histogram, long total, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested && Interlocked.Increment(ref issued) <= total)
        {
            string key = settings.KeyOf(Random.Shared.NextInt64(settings.KeySpace));
            // No gRPC deadline: the watchdog times requests out (see RequestWatchdog).
            var options = new CallOptions(cancellationToken: watchdog.Begin(slot));
            long start = Stopwatch.GetTimestamp();
            StatusCode? failure = null;
            try
            {
                if (settings.Kind == BenchKind.Put)
                {
                    var request = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = value };
                    await client.PutAsync(request, options).ResponseAsync.ConfigureAwait(false);
                }
                else
                {
                    var request = new RangeRequest { Key = ByteString.CopyFromUtf8(key), Serializable = settings.Serializable };
                    await client.RangeAsync(request, options).ResponseAsync.ConfigureAwait(false);
                }
            }
            catch (RpcException) when (stop.IsCancellationRequested)
            {
                // The run ended while this request was in flight: neither a success nor an error.
                watchdog.End(slot);
                return;
            }
            catch (RpcException e)
            {
                failure = e.StatusCode;
            }

            if (watchdog.End(slot) && failure is not null)
                failure = StatusCode.DeadlineExceeded; // cancelled by the watchdog, as a deadline would have been
            if (failure is { } code)
                errors.AddOrUpdate(code, 1, (_, count) => count + 1);
            else
                histogram.Record(Stopwatch.GetElapsedTime(start));

            Interlocked.Increment(ref completed);
        }
    }

    private async Task ReportProgressAsync(Stopwatch clock, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(ProgressInterval);
        long last = 0;
        TimeSpan lastAt = TimeSpan.Zero;
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                long now = Interlocked.Read(ref completed);
                TimeSpan at = clock.Elapsed;
                double rate = (now - last) / Math.Max((at - lastAt).TotalSeconds, 1e-9);
                await progress.WriteLineAsync(FormattableString.Invariant(
                    $"bench {settings.Kind.ToString().ToLowerInvariant()}: {now} ops in {at.TotalSeconds:0}s, {rate:0} ops/s, {errors.Values.Sum()} errors")).ConfigureAwait(false);
                (last, lastAt) = (now, at);
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }
}
