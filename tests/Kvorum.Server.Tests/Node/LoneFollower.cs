using Kvorum.Raft;
using Kvorum.Server.Node;
using Kvorum.Server.Transport;
using Kvorum.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kvorum.Server.Tests.Node;

/// <summary>
/// Member m2 of a two-member cluster whose other member, m1, is the test: m2 joined an existing cluster (so it starts
/// with an empty log and never campaigns during a test), hears only what the test hands it, and its messages are
/// recorded instead of sent. It can be stopped and started again from its data directory.
/// </summary>
internal sealed class LoneFollower : IAsyncDisposable
{
    private static readonly Dictionary<string, IReadOnlyList<Uri>> Initial = new()
    {
        ["m1"] = [new Uri("http://m1.invalid:2380")],
        ["m2"] = [new Uri("http://m2.invalid:2380")],
    };

    private readonly string _root = Path.Combine(Path.GetTempPath(), "kvorum-lone-" + Guid.NewGuid().ToString("N"));
    private readonly string _token = "lone-" + Guid.NewGuid().ToString("N");
    private readonly List<Message> _sent = [];

    public LoneFollower()
    {
        LeaderId = MemberIdentity.MemberId(Initial["m1"], _token);
        Node = Open();
    }

    /// <summary>The running member.</summary>
    public KvorumNode Node { get; private set; }

    /// <summary>The id of m1, the member the test plays.</summary>
    public ulong LeaderId { get; }

    /// <summary>Messages the member has sent so far, in order.</summary>
    public Message[] Sent
    {
        get
        {
            lock (_sent)
                return [.. _sent];
        }
    }

    /// <summary>Stops the member and starts it again from its data directory.</summary>
    public async Task RestartAsync()
    {
        await Node.DisposeAsync();
        Node = Open();
    }

    /// <summary>Makes m1 the member's leader in <paramref name="term"/>, with a heartbeat.</summary>
    public void HeartbeatFromLeader(ulong term) =>
        Node.OnMessage(new Message { Type = MessageType.Heartbeat, From = LeaderId, To = Node.MemberId, Term = term });

    public async ValueTask DisposeAsync()
    {
        await Node.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    private KvorumNode Open()
    {
        var options = new ServerOptions
        {
            Name = "m2",
            DataDir = Path.Combine(_root, "m2"),
            InitialCluster = Initial,
            InitialAdvertisePeerUrls = Initial["m2"],
            InitialClusterToken = _token,
            InitialClusterState = InitialClusterState.Existing,
            HeartbeatIntervalMs = 50,
            ElectionTimeoutMs = 60_000, // it must not campaign during a test
        };
        Directory.CreateDirectory(options.DataDir);
        var id = MemberIdentity.MemberId(Initial["m2"], _token);
        var storage = DiskRaftStorage.Open(new StorageOptions { DataDirectory = options.DataDir });
        var node = new KvorumNode(options, storage, id, MemberIdentity.ClusterId([], _token), NullLogger.Instance);
        node.Start(new RecordingTransport(this));
        return node;
    }

    private sealed class RecordingTransport(LoneFollower owner) : IPeerTransport
    {
        public void SetPeer(ulong id, IReadOnlyList<Uri> peerUrls)
        {
        }

        public void RemovePeer(ulong id)
        {
        }

        public void Send(in Message message)
        {
            lock (owner._sent)
                owner._sent.Add(message);
        }

        public void SendSnapshot(in Message message, Stream data) => data.Dispose();

        public void HeardFrom(ulong id)
        {
        }

        // The lone follower's peers never run.
        public TimeSpan? ConnectedFor(ulong id) => null;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
