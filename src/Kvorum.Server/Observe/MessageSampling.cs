using System.Diagnostics;
using Kvorum.Raft;

namespace Kvorum.Server.Observe;

/// <summary>
/// Decides which message events a member publishes under load: at most <c>budget</c> heartbeats, appends, proposals,
/// read-index requests and their responses per window; past it they are left out and counted, and the count is reported
/// when the next window starts. Elections (votes, pre-votes), snapshots and leadership transfers are rare and always
/// published. Loop thread only.
/// </summary>
internal sealed class MessageSampling(int budget, TimeSpan window)
{
    private readonly long _window = (long)(window.TotalSeconds * Stopwatch.Frequency);
    private bool _open;
    private long _windowStart;
    private int _admitted;
    private long _skipped;

    /// <summary>The frequent messages published per window, at most.</summary>
    public int Budget { get; } = budget;

    /// <summary>
    /// True if an event of <paramref name="type"/> seen at <paramref name="now"/> (a <see cref="Stopwatch"/> timestamp)
    /// is published. <paramref name="skippedBefore"/> is the count left out in the window that just ended, or 0.
    /// </summary>
    public bool Admit(MessageType type, long now, out long skippedBefore)
    {
        skippedBefore = 0;
        if (!IsFrequent(type))
            return true;
        if (!_open || now - _windowStart >= _window)
        {
            _open = true;
            _windowStart = now;
            _admitted = 0;
            skippedBefore = _skipped;
            _skipped = 0;
        }
        if (_admitted < Budget)
        {
            _admitted++;
            return true;
        }
        _skipped++;
        return false;
    }

    /// <summary>Forgets the current window (the member has no watcher left).</summary>
    public void Reset()
    {
        _open = false;
        _admitted = 0;
        _skipped = 0;
    }

    private static bool IsFrequent(MessageType type) => type is MessageType.Append or MessageType.AppendResponse
        or MessageType.Heartbeat or MessageType.HeartbeatResponse or MessageType.Propose or MessageType.ReadIndex
        or MessageType.ReadIndexResponse;
}
