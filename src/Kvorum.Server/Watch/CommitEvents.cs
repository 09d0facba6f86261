using Google.Protobuf;
using Kvorum.Etcd.Api;

namespace Kvorum.Server.Watch;

/// <summary>
/// The events of the commit being handed to the synced watchers, each as the watchers see it (with its prev_kv, or
/// without for those that did not ask for it) and with its encoded size in a response: made on the first watcher that
/// needs it and shared by all the others, so that a revision watched by many costs one stripped event and one size
/// computation per event, not one per watcher.
/// </summary>
/// <remarks>Owned by the member loop through its <see cref="WatcherRegistry"/>; its arrays are reused from one commit to the next.</remarks>
internal sealed class CommitEvents
{
    private IReadOnlyList<Event> _events = [];
    private Event?[] _stripped = [];
    private int[] _fullSizes = [];
    private int[] _strippedSizes = [];

    /// <summary>Starts on the events of a new commit; what was made for the last one is forgotten.</summary>
    public void Begin(IReadOnlyList<Event> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        var count = events.Count;
        if (_fullSizes.Length < count)
        {
            var length = Math.Max(count, _fullSizes.Length * 2);
            _stripped = new Event?[length];
            _fullSizes = new int[length];
            _strippedSizes = new int[length];
        }
        else
        {
            // Only what the last commit used can be set.
            var used = Math.Min(_events.Count, _fullSizes.Length);
            Array.Clear(_stripped, 0, used);
            Array.Clear(_fullSizes, 0, used);
            Array.Clear(_strippedSizes, 0, used);
        }
        _events = events;
    }

    /// <summary>
    /// Event <paramref name="index"/> as a watcher that asked (<paramref name="withPrevKv"/>) or did not ask for
    /// prev_kv sees it, and the bytes it adds to a response: its tag, its length and itself.
    /// </summary>
    public (Event Change, int Bytes) For(int index, bool withPrevKv)
    {
        var change = _events[index];
        if (withPrevKv || change.PrevKv is null)
        {
            if (_fullSizes[index] == 0)
                _fullSizes[index] = SizeInResponse(change);
            return (change, _fullSizes[index]);
        }
        var stripped = _stripped[index] ??= new Event { Type = change.Type, Kv = change.Kv };
        if (_strippedSizes[index] == 0)
            _strippedSizes[index] = SizeInResponse(stripped);
        return (stripped, _strippedSizes[index]);
    }

    /// <summary>Field 11 of a response, a length-delimited message: one byte of tag, then the length and the event.</summary>
    private static int SizeInResponse(Event change) => 1 + CodedOutputStream.ComputeMessageSize(change);
}
