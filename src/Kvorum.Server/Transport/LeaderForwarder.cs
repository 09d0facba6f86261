using System.Collections.Concurrent;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Etcd.Api;
using Wire = Kvorum.Server.Transport.Wire;

namespace Kvorum.Server.Transport;

/// <summary>
/// A follower's side of the calls only the leader can answer: a lease keep-alive or time-to-live query (to the leader's
/// <see cref="LeasePeerService"/>) and a member promotion (to its <see cref="MembershipPeerService"/>), sent to its
/// peer URLs, one channel per URL, kept for reuse. Separate from the Raft
/// streams (<see cref="PeerLink"/>): these are request and answer, and a slow answer must not hold up Raft traffic.
/// Channels dial as <see cref="PeerLink"/>'s do (<see cref="TcpDialer"/>): without gRPC's own reconnection backoff, a
/// restarted leader is reached on the next call. Thread-safe.
/// </summary>
internal sealed class LeaderForwarder : IDisposable
{
    private readonly ConcurrentDictionary<Uri, GrpcChannel> _channels = new();
    private readonly TransportOptions _options;

    /// <summary>Creates a forwarder whose channels take their timeouts and message limits from <paramref name="options"/>.</summary>
    public LeaderForwarder(TransportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    /// <summary>Renews lease <paramref name="id"/> at the leader reached at <paramref name="leaderUrls"/>, a member of cluster <paramref name="clusterId"/>.</summary>
    /// <returns>The granted TTL, or -1 when the leader does not know the lease.</returns>
    /// <exception cref="RpcException">No URL answered within <paramref name="timeout"/>, or the leader refused.</exception>
    public Task<long> RenewAsync(IReadOnlyList<Uri> leaderUrls, ulong clusterId, long id, TimeSpan timeout, CancellationToken cancellation) =>
        CallAsync(leaderUrls, timeout, async (channel, deadline) =>
            (await new Wire.LeasePeer.LeasePeerClient(channel).RenewAsync(new Wire.LeaseForward { ClusterId = clusterId, Id = id }, deadline: deadline, cancellationToken: cancellation).ConfigureAwait(false)).TTL);

    /// <summary>Lease <paramref name="id"/>'s time to live as the leader reached at <paramref name="leaderUrls"/> sees it.</summary>
    /// <exception cref="RpcException">No URL answered within <paramref name="timeout"/>, or the leader refused.</exception>
    public Task<LeaseTimeToLiveResponse> TimeToLiveAsync(IReadOnlyList<Uri> leaderUrls, ulong clusterId, long id, bool keys, TimeSpan timeout, CancellationToken cancellation) =>
        CallAsync(leaderUrls, timeout, async (channel, deadline) =>
            await new Wire.LeasePeer.LeasePeerClient(channel).TimeToLiveAsync(new Wire.LeaseForward { ClusterId = clusterId, Id = id, Keys = keys }, deadline: deadline, cancellationToken: cancellation).ConfigureAwait(false));

    /// <summary>Promotes member <paramref name="id"/> at the leader reached at <paramref name="leaderUrls"/>, which judges whether it is in sync.</summary>
    /// <returns>The leader's answer, with its member table once the promotion is applied there.</returns>
    /// <exception cref="RpcException">No URL answered within <paramref name="timeout"/>, or the leader refused.</exception>
    public Task<MemberPromoteResponse> PromoteAsync(IReadOnlyList<Uri> leaderUrls, ulong clusterId, ulong id, TimeSpan timeout, CancellationToken cancellation) =>
        CallAsync(leaderUrls, timeout, async (channel, deadline) =>
            await new Wire.MembershipPeer.MembershipPeerClient(channel).PromoteAsync(new Wire.PromoteForward { ClusterId = clusterId, Id = id }, deadline: deadline, cancellationToken: cancellation).ConfigureAwait(false));

    /// <summary>
    /// Closes the channels to URLs outside <paramref name="peerUrls"/> (a member was removed or moved). A call that
    /// was using one fails as unreachable, and the follower routes again.
    /// </summary>
    public void Retain(IEnumerable<Uri> peerUrls)
    {
        var keep = peerUrls.ToHashSet();
        foreach (var url in _channels.Keys)
        {
            if (!keep.Contains(url) && _channels.TryRemove(url, out var channel))
                channel.Dispose();
        }
    }

    /// <summary>Closes every channel.</summary>
    public void Dispose()
    {
        foreach (var channel in _channels.Values)
            channel.Dispose();
        _channels.Clear();
    }

    /// <summary>Tries each URL in turn until one answers; the last failure is thrown.</summary>
    private async Task<T> CallAsync<T>(IReadOnlyList<Uri> urls, TimeSpan timeout, Func<GrpcChannel, DateTime, Task<T>> call)
    {
        if (urls.Count == 0)
            throw new RpcException(new Status(StatusCode.Unavailable, "the leader has no known peer URL"));
        RpcException? last = null;
        foreach (var url in urls)
        {
            var channel = _channels.GetOrAdd(url, Open);
            try
            {
                return await call(channel, DateTime.UtcNow + timeout).ConfigureAwait(false);
            }
            catch (RpcException e) when (e.StatusCode != StatusCode.Cancelled)
            {
                last = e;
            }
            catch (ObjectDisposedException)
            {
                last = new RpcException(new Status(StatusCode.Unavailable, "the channel to the leader was closed"));
            }
        }
        throw last!;
    }

    private GrpcChannel Open(Uri url) => GrpcChannel.ForAddress(url, _options.ChannelOptions(HttpKeepAlivePingPolicy.WithActiveRequests));
}
