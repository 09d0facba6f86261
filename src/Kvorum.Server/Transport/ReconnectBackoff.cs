namespace Kvorum.Server.Transport;

/// <summary>
/// Exponential backoff with jitter between reconnection attempts: the n-th delay after a success is drawn
/// uniformly from [d/2, d] where d = min(max, min·2ⁿ). The jitter keeps members that lost a peer at the
/// same moment from reconnecting in lockstep. Not thread-safe: one per sender task.
/// </summary>
internal sealed class ReconnectBackoff(TimeSpan min, TimeSpan max)
{
    // Invariant: 0 <= _failures <= 30, so the shift below cannot overflow.
    private int _failures;

    /// <summary>The delay before the next attempt; each call counts one more failure.</summary>
    public TimeSpan Next()
    {
        var ceiling = Math.Min(max.TotalMilliseconds, min.TotalMilliseconds * (1L << _failures));
        if (_failures < 30)
            _failures++;
        var jittered = ceiling / 2 + (Random.Shared.NextDouble() * ceiling / 2);
        return TimeSpan.FromMilliseconds(jittered);
    }

    /// <summary>A connection succeeded: the next failure starts again from the minimum.</summary>
    public void Reset() => _failures = 0;
}
