using Google.Protobuf;
using Kvorum.Etcd.Api;

namespace Kvorum.Server.Api;

/// <summary>
/// etcd's fragmenting of a watch response (<c>sendFragments</c>): a response at or over the limit with two events or
/// more goes as several, each under the limit unless one event alone is over it, each with the header and watch id,
/// and every one but the last marked <c>fragment</c>.
/// </summary>
internal static class WatchFragments
{
    /// <summary>The fragments of <paramref name="response"/>, for a size limit of <paramref name="limit"/> bytes.</summary>
    public static IEnumerable<WatchResponse> Split(WatchResponse response, long limit)
    {
        ArgumentNullException.ThrowIfNull(response);
        var events = response.Events;
        var index = 0;
        while (index < events.Count)
        {
            var fragment = new WatchResponse { Header = response.Header, WatchId = response.WatchId, Fragment = true };
            long size = fragment.CalculateSize();
            while (index < events.Count)
            {
                // Field 11, a length-delimited message: one byte of tag, then the length and the event.
                var eventSize = 1 + CodedOutputStream.ComputeMessageSize(events[index]);
                if (fragment.Events.Count > 0 && size + eventSize >= limit)
                    break;
                fragment.Events.Add(events[index++]);
                size += eventSize;
            }
            if (index == events.Count)
                fragment.Fragment = false;
            yield return fragment;
        }
    }
}
