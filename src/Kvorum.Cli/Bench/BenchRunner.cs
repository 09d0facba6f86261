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
internal sealed class BenchRunner
{
    private readonly BenchSettings _settings;
    private readonly TextWriter _progress;
    private readonly ConcurrentDictionary<StatusCode, long> _errors = new();
    private readonly ByteString _value;
    private long _issued;
    private long _completed;

    /// <summary>Creates a runner.</summary>
    /// <param name="settings">Validated settings.</param>
    /// <param name="progress">Where the once-a-second progress lines go (stderr).</param>
    public BenchRunner(BenchSettings settings, TextWriter progress)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(progress);
        _settings = settings;
        _progress = progress;
        var bytes = new byte[settings.ValueSize];
        Random.Shared.NextBytes(bytes);
        _value = ByteString.CopyFrom(bytes);
    }

    /// <summary>How often a progress line is printed.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Runs until the total is sent, the duration is over, or <paramref name="cancellation"/> fires.</summary>
    /// <param name="cancellation">Stops the run early; the summary covers what was done.</param>
    public async Task<BenchSummary> RunAsync(CancellationToken cancellation)
    {
        using var channels = new BenchChannels(_settings.Endpoints, _settings.Conns, _settings.DialTimeout, _settings.RequestTimeout, _settings.Tls, _settings.Credentials);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        if (_settings.Duration is { } duration)
            stop.CancelAfter(duration);
        var total = _settings.Total ?? (_settings.Duration is null ? 10_000 : long.MaxValue);

        var histograms = Enumerable.Range(0, _settings.Clients).Select(_ => new LatencyHistogram()).ToArray();
        var cpuAtStart = Environment.CpuUsage.TotalTime;
        var clock = Stopwatch.StartNew();
        using var progressStop = new CancellationTokenSource();
        var reporter = ReportProgressAsync(clock, progressStop.Token);
        await using var watchdog = new RequestWatchdog(_settings.Clients, _settings.RequestTimeout);
        using var stopping = stop.Token.Register(watchdog.CancelAll);
        Task[] clients = [.. Enumerable.Range(0, _settings.Clients)
            .Select(i => Task.Run(() => ClientLoopAsync(channels[i % channels.Count], watchdog, i, histograms[i], total, stop.Token), CancellationToken.None))];
        await Task.WhenAll(clients).ConfigureAwait(false);
        var elapsed = clock.Elapsed;
        var cpu = Environment.CpuUsage.TotalTime - cpuAtStart;
        await progressStop.CancelAsync().ConfigureAwait(false);
        await reporter.ConfigureAwait(false);

        var merged = new LatencyHistogram();
        foreach (var histogram in histograms)
            merged.Merge(histogram);
        return new BenchSummary
        {
            Kind = _settings.Kind,
            Succeeded = merged.Count,
            Errors = new Dictionary<StatusCode, long>(_errors),
            Elapsed = elapsed,
            Latencies = merged,
            ClientCpu = cpu,
        };
    }

    private async Task ClientLoopAsync(GrpcChannel channel, RequestWatchdog watchdog, int slot, LatencyHistogram histogram, long total, CancellationToken stop)
    {
        await using var request = BenchRequests.Create(_settings, channel, _value);
        while (!stop.IsCancellationRequested && Interlocked.Increment(ref _issued) <= total)
        {
            // No gRPC deadline: the watchdog times requests out (see RequestWatchdog).
            var options = new CallOptions(cancellationToken: watchdog.Begin(slot));
            var start = Stopwatch.GetTimestamp();
            StatusCode? failure = null;
            try
            {
                await request.SendAsync(options).ConfigureAwait(false);
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
                _errors.AddOrUpdate(code, 1, (_, count) => count + 1);
            else
                histogram.Record(Stopwatch.GetElapsedTime(start));

            Interlocked.Increment(ref _completed);
        }
    }

    private async Task ReportProgressAsync(Stopwatch clock, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(ProgressInterval);
        long last = 0;
        var lastAt = TimeSpan.Zero;
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                var now = Interlocked.Read(ref _completed);
                var at = clock.Elapsed;
                var rate = (now - last) / Math.Max((at - lastAt).TotalSeconds, 1e-9);
                await _progress.WriteLineAsync(FormattableString.Invariant(
                    $"bench {_settings.Kind.CommandName()}: {now} ops in {at.TotalSeconds:0}s, {rate:0} ops/s, {_errors.Values.Sum()} errors")).ConfigureAwait(false);
                (last, lastAt) = (now, at);
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }
}
