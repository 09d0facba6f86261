using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Kvorum.Server.Node;

/// <summary>
/// Warns of what delays the member loop: a disk write slower than <see cref="SlowWrite"/> (as etcd logs a "slow
/// fdatasync"), and a tick that ran more than half an election timeout (and at least two heartbeats) after the one
/// before, by which this member's elections and heartbeats were late (the loop blocked on the disk, or the timer's
/// thread pool was busy).
/// </summary>
/// <remarks>
/// Owned by the member loop (<see cref="LoopOwner"/>). The clock is <see cref="Stopwatch"/> timestamps, passed in.
/// </remarks>
internal sealed partial class LoopDelays
{
    /// <summary>A disk write slower than this is logged.</summary>
    public static readonly TimeSpan SlowWrite = TimeSpan.FromSeconds(1);

    private readonly ILogger _log;
    private readonly int _heartbeatMs;
    private readonly int _lateTickMs;
    private readonly LoopOwner _owner;

    // When the previous tick ran (Stopwatch timestamp); 0 before the first.
    private long _lastTickAt;

    /// <summary>Creates the warnings of a loop ticking every <paramref name="heartbeatMs"/>; a test passes no <paramref name="owner"/>.</summary>
    public LoopDelays(ILogger log, int heartbeatMs, int electionTimeoutMs, LoopOwner? owner = null)
    {
        _log = log;
        _heartbeatMs = heartbeatMs;
        _lateTickMs = Math.Max(electionTimeoutMs / 2, 2 * heartbeatMs);
        _owner = owner ?? new LoopOwner();
    }

    /// <summary>
    /// A tick runs at <paramref name="now"/>: logs it if it is late. Not before a leader is first known
    /// (<paramref name="leaderKnown"/>): starting up (opening the WAL, compiling the code) is slow once.
    /// </summary>
    public void Tick(long now, bool leaderKnown)
    {
        _owner.AssertOwned();
        if (_lastTickAt != 0 && leaderKnown)
        {
            var gap = Stopwatch.GetElapsedTime(_lastTickAt, now);
            if (gap.TotalMilliseconds > _lateTickMs)
                LogLateTick(_log, (long)gap.TotalMilliseconds, _heartbeatMs);
        }
        _lastTickAt = now;
    }

    /// <summary>A write of <paramref name="entries"/> took <paramref name="took"/> to become durable: logs it if it is slow.</summary>
    public void Written(TimeSpan took, int entries)
    {
        if (took > SlowWrite)
            LogSlowWrite(_log, (long)took.TotalMilliseconds, entries, (long)SlowWrite.TotalMilliseconds);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "slow fsync: writing {Entries} entries took {Milliseconds} ms (expected under {Expected} ms); the disk is slow or overloaded")]
    private static partial void LogSlowWrite(ILogger log, long milliseconds, int entries, long expected);

    [LoggerMessage(Level = LogLevel.Warning, Message = "raft tick late: {Milliseconds} ms since the last one, expected {Interval} ms; the loop or the thread pool is overloaded, so elections and heartbeats run late")]
    private static partial void LogLateTick(ILogger log, long milliseconds, int interval);
}
