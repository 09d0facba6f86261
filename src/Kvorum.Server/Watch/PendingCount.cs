namespace Kvorum.Server.Watch;

/// <summary>
/// Responses and their bytes handed to a watcher's stream and not yet sent: raised by the loop as it hands them over,
/// lowered by the stream's writer as it sends them, so both sides use atomic operations.
/// </summary>
internal sealed class PendingCount
{
    private int _responses;
    private long _bytes;

    /// <summary>Responses not yet sent.</summary>
    public int Responses => Volatile.Read(ref _responses);

    /// <summary>Their bytes, about.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>One more response of <paramref name="bytes"/> was handed over.</summary>
    public void Add(long bytes)
    {
        Interlocked.Increment(ref _responses);
        Interlocked.Add(ref _bytes, bytes);
    }

    /// <summary>A response of <paramref name="bytes"/> was sent (or dropped with its stream).</summary>
    public void Remove(long bytes)
    {
        Interlocked.Decrement(ref _responses);
        Interlocked.Add(ref _bytes, -bytes);
    }
}
