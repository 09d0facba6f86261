using Kvorum.Raft;
using Kvorum.Server.Node;
using Kvorum.Server.Transport;
using Kvorum.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kvorum.Server.Tests.Node;

/// <summary>
/// Members' event loops (<see cref="KvorumNode"/> with a WAL on disk each) wired by an in-memory network
/// instead of gRPC, so a test can drop chosen messages (<see cref="Drop"/>). Delivery is direct: a send posts
/// into the recipient's inbox, copied through the wire codec as the real transport would.
/// </summary>
internal sealed class InMemoryCluster : IAsyncDisposable
{
    private readonly string _root;
    private readonly Dictionary<ulong, KvorumNode> _nodes = [];
    private Func<Message, bool> _drop = _ => false;
    private int _dropped;

    private InMemoryCluster(string root) => _root = root;

    public IReadOnlyCollection<KvorumNode> Nodes => _nodes.Values;

    /// <summary>Messages the filter has dropped so far.</summary>
    public int Dropped => Volatile.Read(ref _dropped);

    /// <summary>From now on, drops every message for which <paramref name="filter"/> holds.</summary>
    public void Drop(Func<Message, bool> filter) => Volatile.Write(ref _drop, filter);

    /// <summary>
    /// Starts <paramref name="size"/> members (heartbeat 50 ms, election timeout 500 ms), with their data
    /// directories under <paramref name="root"/> (a new temporary directory if null; given again with the same
    /// <paramref name="token"/>, the members restart from what is there).
    /// </summary>
    /// <remarks>The log keeps <paramref name="snapshotCatchUpEntries"/> entries behind a snapshot; by default half of <paramref name="snapshotCount"/>.</remarks>
    public static InMemoryCluster Start(int size, ulong snapshotCount = 10_000, string? root = null, string? token = null, int gcStaggerEntries = 4096, long leaderGcBudgetBytes = 4 << 20, ILogger? log = null, ulong? snapshotCatchUpEntries = null)
    {
        var cluster = new InMemoryCluster(root ?? Path.Combine(Path.GetTempPath(), "kvorum-mem-" + Guid.NewGuid().ToString("N")));
        token ??= "mem-" + Guid.NewGuid().ToString("N");
        var names = Enumerable.Range(1, size).Select(i => $"m{i}").ToArray();
        var initial = names.ToDictionary(n => n, n => (IReadOnlyList<Uri>)[new Uri($"http://{n}.invalid:2380")]);
        var options = names.Select(n => new ServerOptions
        {
            Name = n,
            DataDir = Path.Combine(cluster._root, n),
            InitialCluster = initial,
            InitialAdvertisePeerUrls = initial[n],
            InitialClusterToken = token,
            HeartbeatIntervalMs = 50,
            ElectionTimeoutMs = 500,
            SnapshotCount = snapshotCount,
            SnapshotCatchUpEntries = snapshotCatchUpEntries ?? snapshotCount / 2,
            GcStaggerEntries = gcStaggerEntries,
            LeaderGcBudgetBytes = leaderGcBudgetBytes,
        }).ToList();
        foreach (var o in options)
        {
            Directory.CreateDirectory(o.DataDir);
            var id = MemberIdentity.MemberId(o.InitialAdvertisePeerUrls, token);
            var storage = DiskRaftStorage.Open(new StorageOptions { DataDirectory = o.DataDir });
            cluster._nodes[id] = new KvorumNode(o, storage, id, MemberIdentity.ClusterId([], token), log ?? NullLogger.Instance);
        }
        foreach (var node in cluster._nodes.Values)
            node.Start(new Link(cluster, node));
        return cluster;
    }

    /// <summary>Waits until every member names the same leader, and returns it.</summary>
    public async Task<KvorumNode> WaitForLeaderAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var leaders = _nodes.Values.Select(n => n.Status.Leader).Distinct().ToList();
            if (leaders.Count == 1 && _nodes.TryGetValue(leaders[0], out var leader))
                return leader;
            await Task.Delay(20);
        }
        throw new TimeoutException($"no agreed leader within {timeout}");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes.Values)
            await node.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Deliver(in Message message, KvorumNode from)
    {
        if (Volatile.Read(ref _drop)(message))
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        if (_nodes.TryGetValue(message.To, out var to))
            to.OnMessage(MessageCodec.Decode(MessageCodec.Encode(message)));
        else
            from.OnUnreachable(message.To);
    }

    /// <summary>One member's end of the network.</summary>
    private sealed class Link(InMemoryCluster cluster, KvorumNode self) : IPeerTransport
    {
        public void SetPeer(ulong id, IReadOnlyList<Uri> peerUrls)
        {
        }

        public void RemovePeer(ulong id)
        {
        }

        public void Send(in Message message) => cluster.Deliver(message, self);

        public void SendSnapshot(in Message message, Stream data)
        {
            data.Dispose();
            self.OnSnapshotSent(message.To, false);
        }

        public void HeardFrom(ulong id)
        {
        }

        // The in-memory network never breaks a link (Drop loses messages, not connections): every member is connected.
        public TimeSpan? ConnectedFor(ulong id) => cluster._nodes.ContainsKey(id) ? TimeSpan.MaxValue : null;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
