using System.Collections.Concurrent;
using Kvorum.Raft;
using Microsoft.Extensions.Logging;

namespace Kvorum.Server.Transport;

/// <summary>
/// The gRPC peer transport: for each peer, one long-lived client stream (<c>RaftPeer.Stream</c>, HTTP/2
/// cleartext, or TLS for https peer URLs: <see cref="TransportOptions.Security"/>) fed by a bounded queue, batching whatever is queued into each write and reconnecting with
/// jittered exponential backoff; snapshots go over separate <c>RaftPeer.Snapshot</c> calls in chunks.
/// The receiving side is <see cref="RaftPeerService"/>.
/// </summary>
/// <remarks>
/// <see cref="Send"/> and <see cref="SendSnapshot"/> never block and never throw for network reasons:
/// failures come back through <see cref="IRaftMessageSink.OnUnreachable"/> and
/// <see cref="IRaftMessageSink.OnSnapshotSent"/>. All methods are thread-safe.
/// </remarks>
internal sealed class GrpcPeerTransport : IPeerTransport
{
    private readonly ulong _selfId;
    private readonly ulong _clusterId;
    private readonly IRaftMessageSink _sink;
    private readonly ILogger _logger;
    private readonly TransportOptions _options;

    /// <summary>Current links by peer id. Read lock-free by Send; changed only under <see cref="_membership"/>.</summary>
    private readonly ConcurrentDictionary<ulong, PeerLink> _links = new();

    /// <summary>Serializes membership changes and guards <see cref="_stopping"/> and <see cref="_disposed"/>.</summary>
    private readonly Lock _membership = new();

    /// <summary>Links replaced or removed and still shutting down; awaited by <see cref="DisposeAsync"/>.</summary>
    private readonly List<Task> _stopping = [];

    private bool _disposed;

    /// <summary>Creates a transport with no peers; add them with <see cref="SetPeer"/>.</summary>
    /// <param name="selfId">This member's id; <see cref="SetPeer"/> ignores it.</param>
    /// <param name="clusterId">Sent with every batch and chunk; receivers refuse other clusters' traffic.</param>
    /// <param name="sink">Receives unreachable and snapshot reports (this side only sends).</param>
    /// <param name="logger">For connection changes and failures.</param>
    /// <param name="options">Queue, chunk and message sizes, backoff; validated here.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public GrpcPeerTransport(ulong selfId, ulong clusterId, IRaftMessageSink sink, ILogger logger, TransportOptions options)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _selfId = selfId;
        _clusterId = clusterId;
        _sink = sink;
        _logger = logger;
        _options = options;
    }

    /// <inheritdoc />
    /// <remarks>Same URLs as before: nothing happens. Different URLs: the old connection is replaced.</remarks>
    /// <exception cref="ArgumentException"><paramref name="peerUrls"/> is empty or holds a URL that is not absolute http(s).</exception>
    /// <exception cref="ObjectDisposedException">The transport was disposed.</exception>
    public void SetPeer(ulong id, IReadOnlyList<Uri> peerUrls)
    {
        ArgumentNullException.ThrowIfNull(peerUrls);
        if (peerUrls.Count == 0)
            throw new ArgumentException($"peer {id:x} has no URLs", nameof(peerUrls));
        foreach (var url in peerUrls)
        {
            if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
                throw new ArgumentException($"peer {id:x}: '{url}' is not an absolute http(s) URL", nameof(peerUrls));
        }
        if (id == _selfId)
            return;

        lock (_membership)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_links.TryGetValue(id, out var old) && old.Urls.SequenceEqual(peerUrls))
                return;
            _links[id] = new PeerLink(_selfId, id, peerUrls, _clusterId, _sink, _logger, _options);
            if (old is not null)
                StopUnsynchronized(old);
        }
    }

    /// <inheritdoc />
    public void RemovePeer(ulong id)
    {
        lock (_membership)
        {
            if (_links.TryRemove(id, out var old))
                StopUnsynchronized(old);
        }
    }

    /// <inheritdoc />
    public void HeardFrom(ulong id)
    {
        if (_links.TryGetValue(id, out var link))
            link.HeardFromPeer();
    }

    /// <inheritdoc />
    public TimeSpan? ConnectedFor(ulong id) => _links.TryGetValue(id, out var link) ? link.ConnectedFor : null;

    /// <inheritdoc />
    /// <remarks>A message to an unknown peer is dropped and reported unreachable.</remarks>
    public void Send(in Message message)
    {
        if (_links.TryGetValue(message.To, out var link))
            link.Send(message);
        else
            _sink.OnUnreachable(message.To);
    }

    /// <inheritdoc />
    /// <remarks>A snapshot to an unknown peer fails at once.</remarks>
    public void SendSnapshot(in Message message, Stream data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (_links.TryGetValue(message.To, out var link))
        {
            link.SendSnapshot(message, data);
        }
        else
        {
            data.Dispose();
            _sink.OnSnapshotSent(message.To, false);
        }
    }

    /// <summary>Closes every stream; snapshot uploads in flight are cancelled and reported failed.</summary>
    public async ValueTask DisposeAsync()
    {
        Task[] pending;
        lock (_membership)
        {
            _disposed = true;
            foreach (var id in _links.Keys)
            {
                if (_links.TryRemove(id, out var link))
                    StopUnsynchronized(link);
            }
            pending = [.. _stopping];
            _stopping.Clear();
        }
        await Task.WhenAll(pending).ConfigureAwait(false);
    }

    /// <summary>Starts stopping <paramref name="link"/>; the caller holds <see cref="_membership"/>.</summary>
    private void StopUnsynchronized(PeerLink link)
    {
        _stopping.RemoveAll(task => task.IsCompleted);
        _stopping.Add(link.DisposeAsync().AsTask());
    }
}
