namespace Kvorum.Lab.Checking;

/// <summary>One event as a watcher received it.</summary>
/// <param name="Revision">The event's revision (its key's mod revision).</param>
/// <param name="Key">The key.</param>
/// <param name="IsDelete">A DELETE rather than a PUT.</param>
/// <param name="Value">The value a PUT wrote (null for a DELETE).</param>
internal sealed record WatchedEvent(long Revision, string Key, bool IsDelete, string? Value)
{
    /// <summary>Formats as <c>r12 put(k1.0, "p3-7")</c>.</summary>
    public override string ToString() => IsDelete ? $"r{Revision} delete({Key})" : $"r{Revision} put({Key}, {KvInput.Quote(Value)})";
}

/// <summary>
/// What one watcher of the check saw: where it started, every event in arrival order (across the streams it
/// resumed on), and how it ended. Filled by its own task only and read once that task has ended, except for
/// <see cref="Reached"/>, which other threads may read while it runs.
/// </summary>
/// <param name="id">The watcher's number, for reports.</param>
internal sealed class WatcherLog(int id)
{
    /// <summary>The watcher's number, for reports.</summary>
    public int Id { get; } = id;

    /// <summary>The first revision it asked for (0 until its first watch was created).</summary>
    public long StartRevision { get; set; }

    private readonly List<WatchedEvent> _events = [];
    private long _reached;

    /// <summary>The events, in arrival order.</summary>
    public IReadOnlyList<WatchedEvent> Events => _events;

    /// <summary>The highest revision it has seen so far (0 before any); safe to read from any thread.</summary>
    public long Reached => Volatile.Read(ref _reached);

    /// <summary>How many times it resumed on a new stream after one ended.</summary>
    public int Resumes { get; set; }

    /// <summary>Why it stopped early (a cancelled watch, a compaction), or null if it ran to the end.</summary>
    public string? Failure { get; set; }

    /// <summary>Records an event that arrived.</summary>
    /// <param name="e">The event.</param>
    public void Add(WatchedEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        _events.Add(e);
        if (e.Revision > _reached)
            Volatile.Write(ref _reached, e.Revision);
    }
}
