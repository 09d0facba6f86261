using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Cli.Client;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Bench;

/// <summary>
/// Opens <see cref="WatchBenchSettings.Watchers"/> single-key watchers over a few streams, then puts to the watched
/// keys on a fixed schedule (open loop: the rate does not follow the answers) and measures every event's arrival.
/// Each put's value starts with the time it was sent, and each acknowledgement's revision is noted, so an event's
/// latency can be taken from either. Speaks only etcd's KV and Watch APIs, so it can target etcd too.
/// </summary>
internal sealed class WatchBenchRunner
{
    private readonly WatchBenchSettings _settings;
    private readonly TextWriter _progress;
    private readonly string _prefix = "bench-watch/" + Guid.NewGuid().ToString("N")[..8] + "/";
    private readonly ConcurrentDictionary<long, long> _acknowledgedAt = new();
    private readonly ConcurrentDictionary<StatusCode, long> _putErrors = new();
    private long _puts;
    private long _expected;
    private long _delivered;

    /// <summary>Creates a runner.</summary>
    /// <param name="settings">Validated settings.</param>
    /// <param name="progress">Where the progress lines go (stderr).</param>
    public WatchBenchRunner(WatchBenchSettings settings, TextWriter progress)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(progress);
        _settings = settings;
        _progress = progress;
    }

    /// <summary>Opens the watchers, runs the puts, waits for the events, and summarises.</summary>
    /// <param name="cancellation">Stops the run early; the summary covers what was done.</param>
    public async Task<WatchBenchSummary> RunAsync(CancellationToken cancellation)
    {
        var s = _settings;
        using var channels = new BenchChannels(s.Endpoints, s.Conns, s.DialTimeout, s.RequestTimeout, s.Tls, s.Credentials);
        using var streamsLife = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        var streams = new List<WatchBenchStream>();
        try
        {
            for (var i = 0; i < s.Streams; i++)
                streams.Add(new WatchBenchStream(new Watch.WatchClient(channels[i % channels.Count]), this, WatchersOn(i), streamsLife.Token));

            var opening = Stopwatch.StartNew();
            for (var w = 0; w < s.Watchers; w++)
                await streams[w % s.Streams].CreateAsync(Key(w % s.Keys)).ConfigureAwait(false);
            using (var openDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation))
            {
                openDeadline.CancelAfter(s.RequestTimeout * Math.Max(1, s.Watchers / 1000));
                await Task.WhenAll(streams.Select(stream => stream.AllCreated.WaitAsync(openDeadline.Token))).ConfigureAwait(false);
            }

            await _progress.WriteLineAsync(FormattableString.Invariant(
                $"bench watch: {s.Watchers} watchers open on {s.Streams} streams in {opening.Elapsed.TotalSeconds:0.0}s")).ConfigureAwait(false);
            if (s.Idle > TimeSpan.Zero)
                await Task.Delay(s.Idle, cancellation).ConfigureAwait(false);

            var phase = Stopwatch.StartNew();
            using var progressStop = new CancellationTokenSource();
            var reporter = ReportProgressAsync(phase, progressStop.Token);
            await PutOnScheduleAsync(new KV.KVClient(channels[0]), cancellation).ConfigureAwait(false);
            var putPhase = phase.Elapsed;

            var drainUntil = Stopwatch.GetTimestamp() + (long)(s.Drain.TotalSeconds * Stopwatch.Frequency);
            while (Interlocked.Read(ref _delivered) < Interlocked.Read(ref _expected)
                && Stopwatch.GetTimestamp() < drainUntil && !cancellation.IsCancellationRequested)
            {
                await Task.Delay(20, CancellationToken.None).ConfigureAwait(false);
            }

            await progressStop.CancelAsync().ConfigureAwait(false);
            await reporter.ConfigureAwait(false);
            await streamsLife.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(streams.Select(x => x.Reader)).ConfigureAwait(false);

            var fromAck = new LatencyHistogram();
            var fromSend = new LatencyHistogram();
            foreach (var stream in streams)
            {
                fromAck.Merge(stream.FromAcknowledgement);
                fromSend.Merge(stream.FromSend);
            }

            return new WatchBenchSummary
            {
                Settings = s,
                Puts = _puts,
                PutErrors = new Dictionary<StatusCode, long>(_putErrors),
                PutPhase = putPhase,
                Expected = _expected,
                Delivered = _delivered,
                FromAcknowledgement = fromAck,
                FromSend = fromSend,
                BeforeAcknowledgement = streams.Sum(x => x.BeforeAcknowledgement),
                Unexpected = streams.Sum(x => x.Duplicates),
            };
        }
        finally
        {
            await streamsLife.CancelAsync().ConfigureAwait(false);
            foreach (var stream in streams)
                stream.Dispose();
        }
    }

    /// <summary>Called by a stream's reader for each event: its latencies, from the send time in the value and the noted acknowledgement.</summary>
    internal (long FromSendMicros, long? FromAckMicros) Arrived(long revision, ReadOnlySpan<byte> value, long now)
    {
        Interlocked.Increment(ref _delivered);
        var sentAt = value.Length >= sizeof(long) ? BinaryPrimitives.ReadInt64LittleEndian(value) : now;
        var fromSend = Micros(now - sentAt);
        return _acknowledgedAt.TryGetValue(revision, out var ackAt) ? (fromSend, Micros(Math.Max(0, now - ackAt))) : (fromSend, null);
    }

    /// <summary>How many of the watchers go on stream <paramref name="stream"/>: watcher w goes on stream w mod the streams.</summary>
    private int WatchersOn(int stream) =>
        (_settings.Watchers / _settings.Streams) + (stream < _settings.Watchers % _settings.Streams ? 1 : 0);

    private ByteString Key(int n) => ByteString.CopyFromUtf8(_prefix + n.ToString("D6", System.Globalization.CultureInfo.InvariantCulture));

    private async Task PutOnScheduleAsync(KV.KVClient client, CancellationToken cancellation)
    {
        var s = _settings;
        if (s.PutRate == 0)
        {
            await Task.Delay(s.Duration, cancellation).ConfigureAwait(false);
            return;
        }

        using var inFlight = new SemaphoreSlim(s.MaxPutsInFlight);
        var keys = Enumerable.Range(0, s.Keys).Select(Key).ToArray();
        var pending = new List<Task>();
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(s.Duration.TotalSeconds * Stopwatch.Frequency);
        for (long n = 0; !cancellation.IsCancellationRequested; n++)
        {
            var due = start + (long)(n * (double)Stopwatch.Frequency / s.PutRate);
            if (due >= end)
                break;
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.FromMilliseconds(1))
                await Task.Delay(wait, CancellationToken.None).ConfigureAwait(false);
            await inFlight.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            var key = (int)(n % s.Keys);
            pending.Add(PutAsync(client, keys[key], s.WatchersOf(key), inFlight));
            if (pending.Count > 4 * s.MaxPutsInFlight)
                pending.RemoveAll(task => task.IsCompleted);
        }

        await Task.WhenAll(pending).ConfigureAwait(false);
    }

    private async Task PutAsync(KV.KVClient client, ByteString key, int watchers, SemaphoreSlim inFlight)
    {
        try
        {
            var value = new byte[_settings.ValueSize];
            BinaryPrimitives.WriteInt64LittleEndian(value, Stopwatch.GetTimestamp());
            var response = await client.PutAsync(
                new PutRequest { Key = key, Value = UnsafeByteOperations.UnsafeWrap(value) },
                deadline: DateTime.UtcNow + _settings.RequestTimeout).ResponseAsync.ConfigureAwait(false);
            _acknowledgedAt[response.Header.Revision] = Stopwatch.GetTimestamp();
            Interlocked.Increment(ref _puts);
            Interlocked.Add(ref _expected, watchers);
        }
        catch (RpcException e)
        {
            _putErrors.AddOrUpdate(e.StatusCode, 1, (_, count) => count + 1);
        }
        finally
        {
            inFlight.Release();
        }
    }

    private async Task ReportProgressAsync(Stopwatch clock, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                await _progress.WriteLineAsync(FormattableString.Invariant(
                    $"bench watch: {Interlocked.Read(ref _puts)} puts, {Interlocked.Read(ref _delivered)} of {Interlocked.Read(ref _expected)} events in {clock.Elapsed.TotalSeconds:0}s")).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
    }

    private static long Micros(long ticks) => (long)(ticks * 1_000_000.0 / Stopwatch.Frequency);
}
