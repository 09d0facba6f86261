using System.Diagnostics;

namespace Kvorum.Cli.Bench;

/// <summary>
/// Times out the load generator's requests on the client alone. Each client loop has one slot with a reusable
/// <see cref="CancellationTokenSource"/>. One timer cancels the slot whose request has been in flight longer than
/// the timeout.
/// </summary>
/// <remarks>
/// A gRPC deadline would time requests out as well, at a cost per request: a timer on the client, and on the
/// server, which is what the bench measures, a deadline manager with a timer and a cancellation source of its own
/// (a share of a Kvorum leader's allocation under puts: docs/benchmarks.md).
/// </remarks>
internal sealed class RequestWatchdog : IAsyncDisposable
{
    private readonly Slot[] _slots;
    private readonly long _timeoutTicks;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _watching;

    /// <summary>Watches <paramref name="slots"/> client loops, each with at most one request in flight.</summary>
    public RequestWatchdog(int slots, TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(slots);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        _slots = [.. Enumerable.Range(0, slots).Select(_ => new Slot())];
        _timeoutTicks = (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        var period = TimeSpan.FromTicks(Math.Clamp(timeout.Ticks / 10, TimeSpan.TicksPerMillisecond, 100 * TimeSpan.TicksPerMillisecond));
        _watching = WatchAsync(period, _stop.Token);
    }

    /// <summary>A request of loop <paramref name="slot"/> starts: the token to send it with.</summary>
    public CancellationToken Begin(int slot)
    {
        var s = _slots[slot];
        lock (s.Gate)
        {
            if (!s.Source.TryReset())
            {
                s.Source.Dispose();
                s.Source = new CancellationTokenSource();
            }
            s.TimedOut = false;
            s.StartedAt = Stopwatch.GetTimestamp();
            return s.Source.Token;
        }
    }

    /// <summary>The request of loop <paramref name="slot"/> ended; true if the watchdog cancelled it for taking too long.</summary>
    public bool End(int slot)
    {
        var s = _slots[slot];
        lock (s.Gate)
        {
            s.StartedAt = 0;
            return s.TimedOut;
        }
    }

    /// <summary>Cancels every request in flight (the run is over).</summary>
    public void CancelAll()
    {
        foreach (var s in _slots)
        {
            lock (s.Gate)
            {
                if (s.StartedAt != 0)
                    s.Source.Cancel();
            }
        }
    }

    private async Task WatchAsync(TimeSpan period, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(period);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                var now = Stopwatch.GetTimestamp();
                foreach (var s in _slots)
                {
                    lock (s.Gate)
                    {
                        if (s.StartedAt == 0 || now - s.StartedAt < _timeoutTicks)
                            continue;
                        s.StartedAt = 0;
                        s.TimedOut = true;
                        s.Source.Cancel();
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed.
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _watching.ConfigureAwait(false);
        _stop.Dispose();
        foreach (var s in _slots)
            s.Dispose();
    }

    private sealed class Slot : IDisposable
    {
        public readonly Lock Gate = new();
        public CancellationTokenSource Source = new();

        // Stopwatch timestamp of the request in flight; 0 when none is.
        public long StartedAt;
        public bool TimedOut;

        public void Dispose() => Source.Dispose();
    }
}
