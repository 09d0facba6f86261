using System.Diagnostics;

namespace Kvorum.Server.Observe;

/// <summary>
/// The file where the lab writes this member's fault state (<c>--experimental-lab-state-file</c>), read for the event
/// stream: at most once per <see cref="Interval"/>, and only while someone watches, so that it costs nothing otherwise.
/// A file that is missing or being replaced reads as the last text seen. Member loop only.
/// </summary>
internal sealed class LabStateFile(string? path)
{
    /// <summary>How often the file is read while watched: a fault shows on the page within this.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    private static readonly long IntervalTicks = (long)(Interval.TotalSeconds * Stopwatch.Frequency);
    private long _readAt = long.MinValue;

    /// <summary>The fault state last read (empty outside the lab or when none is in force).</summary>
    public string Text { get; private set; } = "";

    /// <summary>Reads the file again when <see cref="Interval"/> has passed (or when <paramref name="force"/> says so).</summary>
    /// <param name="force">Read it whatever the time (a new watcher's first state).</param>
    /// <returns>The text as of now.</returns>
    public string Refresh(bool force = false)
    {
        if (path is null)
            return Text;
        var now = Stopwatch.GetTimestamp();
        if (!force && now - _readAt < IntervalTicks)
            return Text;
        _readAt = now;
        try
        {
            Text = File.Exists(path) ? File.ReadAllText(path).Trim() : "";
        }
        catch (IOException)
        {
            // Replaced while read: the next read decides.
        }
        return Text;
    }
}
