using System.Diagnostics;

namespace Kvorum.Raft.Tracking;

/// <summary>
/// The window of Append messages sent to one follower and not yet acknowledged (thesis §10.2.1
/// pipelining), bounded in message count and in bytes. A ring buffer, so the steady state allocates nothing.
/// </summary>
internal sealed class Inflights
{
    private readonly ulong[] _index;
    private readonly long[] _bytes;
    private readonly long _maxBytes;

    /// <summary>Ring position of the oldest in-flight message.</summary>
    private int _start;

    /// <summary>Number of in-flight messages.</summary>
    private int _count;

    /// <summary>Sum of the bytes of in-flight messages.</summary>
    private long _totalBytes;

    public Inflights(int maxMessages, long maxBytes)
    {
        _index = new ulong[maxMessages];
        _bytes = new long[maxMessages];
        _maxBytes = maxBytes;
    }

    public int Count => _count;

    public long Bytes => _totalBytes;

    /// <summary>True when no more messages may be sent.</summary>
    public bool Full => _count == _index.Length || (_maxBytes > 0 && _totalBytes >= _maxBytes);

    /// <summary>Records a message whose last entry is <paramref name="lastIndex"/>.</summary>
    public void Add(ulong lastIndex, long bytes)
    {
        Debug.Assert(!Full, "adding to a full inflight window");
        Debug.Assert(_count == 0 || _index[(_start + _count - 1) % _index.Length] < lastIndex, "inflight indexes must grow");
        var slot = (_start + _count) % _index.Length;
        _index[slot] = lastIndex;
        _bytes[slot] = bytes;
        _count++;
        _totalBytes += bytes;
    }

    /// <summary>Frees every message whose last entry is at or below <paramref name="index"/> (acknowledged).</summary>
    public void FreeLE(ulong index)
    {
        while (_count > 0 && _index[_start] <= index)
        {
            _totalBytes -= _bytes[_start];
            _start = (_start + 1) % _index.Length;
            _count--;
        }
        if (_count == 0)
            _start = 0;
    }

    /// <summary>Frees the oldest message: lets one more through a window that may be full of lost messages.</summary>
    public void FreeFirstOne()
    {
        if (_count > 0)
            FreeLE(_index[_start]);
    }

    public void Reset()
    {
        _start = 0;
        _count = 0;
        _totalBytes = 0;
    }
}
