namespace Kvorum.Server;

/// <summary>
/// Lets one log line through per interval and counts the ones it holds back, so that whoever can make a member log
/// (a stranger on its peer port, a client sending garbage) cannot flood its log. Thread-safe: lines may come from any
/// transport thread.
/// </summary>
internal sealed class LogThrottle
{
    private readonly long _intervalMs;
    private long _loggedAt = long.MinValue / 2;
    private long _held;

    /// <summary>Creates a throttle that lets through one line per <paramref name="interval"/>.</summary>
    public LogThrottle(TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _intervalMs = (long)interval.TotalMilliseconds;
    }

    /// <summary>The interval used for every refusal that a stranger can cause.</summary>
    public static TimeSpan DefaultInterval { get; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Whether this line may be logged now; if so, <paramref name="held"/> is how many were held back since the last
    /// one that was, for the line to say so.
    /// </summary>
    public bool TryPass(out long held)
    {
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _loggedAt);
        if (now - last < _intervalMs || Interlocked.CompareExchange(ref _loggedAt, now, last) != last)
        {
            Interlocked.Increment(ref _held);
            held = 0;
            return false;
        }
        held = Interlocked.Exchange(ref _held, 0);
        return true;
    }

    /// <summary><paramref name="text"/> on one line: what a sender chose must not start lines of its own in the log.</summary>
    public static string OneLine(string text) =>
        text.Length <= 200 && !text.AsSpan().ContainsAny('\r', '\n')
            ? text
            : text[..Math.Min(text.Length, 200)].ReplaceLineEndings(" ");
}
