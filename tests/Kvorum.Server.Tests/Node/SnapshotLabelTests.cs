using Google.Protobuf;
using Kvorum.Raft;
using Kvorum.Server.Etcd;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node;
using Kvorum.Server.Transport;
using Kvorum.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kvorum.Server.Tests.Node;

/// <summary>
/// A snapshot from a leader is installed only if the state inside was taken at the index and term its Raft metadata
/// names (issue 19, finding 2): installed under an older label, the entries after that label would be applied again
/// on top of a state that already holds them, and the member's revisions would part from its peers' for good.
/// </summary>
public sealed class SnapshotLabelTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "kvorum-label-" + Guid.NewGuid().ToString("N"));
    private readonly string _token = "label-" + Guid.NewGuid().ToString("N");
    private KvorumNode _joiner = null!;
    private ulong _leaderId;

    public Task InitializeAsync()
    {
        var initial = new Dictionary<string, IReadOnlyList<Uri>>
        {
            ["m1"] = [new Uri("http://m1.invalid:2380")],
            ["m2"] = [new Uri("http://m2.invalid:2380")],
        };
        var options = new ServerOptions
        {
            Name = "m2",
            DataDir = Path.Combine(_root, "m2"),
            InitialCluster = initial,
            InitialAdvertisePeerUrls = initial["m2"],
            InitialClusterToken = _token,
            InitialClusterState = InitialClusterState.Existing,
            HeartbeatIntervalMs = 50,
            ElectionTimeoutMs = 60_000, // it must not campaign during the test
        };
        Directory.CreateDirectory(options.DataDir);
        _leaderId = MemberIdentity.MemberId(initial["m1"], _token);
        var id = MemberIdentity.MemberId(initial["m2"], _token);
        var storage = DiskRaftStorage.Open(new StorageOptions { DataDirectory = options.DataDir });
        _joiner = new KvorumNode(options, storage, id, MemberIdentity.ClusterId([], _token), NullLogger.Instance);
        _joiner.Start(new NoTransport());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _joiner.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    private (Message Message, byte[] Data) Snapshot(ulong labelIndex, AppliedPosition inside)
    {
        var store = new MvccStore();
        for (var i = 0; i < 20; i++)
            store.Put(new PutRequest { Key = ByteString.CopyFromUtf8($"k{i}"), Value = ByteString.CopyFromUtf8($"v{i}") });
        Member[] members =
        [
            new() { ID = _leaderId, Name = "m1", PeerURLs = { "http://m1.invalid:2380" } },
            new() { ID = _joiner.MemberId, Name = "m2", PeerURLs = { "http://m2.invalid:2380" } },
        ];
        using var bytes = new MemoryStream();
        NodeSnapshotFormat.Write(bytes, FrozenStore.Of(store), members, _joiner.ClusterId, inside);
        var meta = new SnapshotMetadata(labelIndex, 2, ConfState.OfVoters(_leaderId, _joiner.MemberId));
        var message = new Message { Type = MessageType.Snapshot, From = _leaderId, To = _joiner.MemberId, Term = 2, Snapshot = meta };
        return (message, bytes.ToArray());
    }

    private void Deliver((Message Message, byte[] Data) snapshot)
    {
        var stream = _joiner.BeginSnapshot(snapshot.Message);
        // In chunks, as the transport writes them, so the header arrives in pieces.
        for (var at = 0; at < snapshot.Data.Length; at += 7)
            stream.Write(snapshot.Data.AsSpan(at, Math.Min(7, snapshot.Data.Length - at)));
        _joiner.OnSnapshot(snapshot.Message, stream);
    }

    [Fact]
    public async Task A_snapshot_whose_state_was_taken_at_a_later_index_than_its_label_is_refused()
    {
        Deliver(Snapshot(labelIndex: 10, inside: new AppliedPosition(12, 2)));
        await Task.Delay(300);
        Assert.Equal(1, Interlocked.Read(ref _joiner.Metrics.SnapshotsRefused));
        Assert.Equal(0UL, _joiner.Status.Applied);
        Assert.Equal(1L, _joiner.Status.Revision); // an empty store, as etcd's starts at revision 1

        // The same state under its own label goes in.
        Deliver(Snapshot(labelIndex: 12, inside: new AppliedPosition(12, 2)));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (_joiner.Status.Applied != 12)
            await Task.Delay(10, timeout.Token);
        Assert.Equal(21L, _joiner.Status.Revision);
        Assert.Equal(1, Interlocked.Read(ref _joiner.Metrics.SnapshotsRefused));
    }

    [Fact]
    public async Task A_snapshot_with_a_term_other_than_its_label_is_refused()
    {
        Deliver(Snapshot(labelIndex: 12, inside: new AppliedPosition(12, 1)));
        await Task.Delay(300);
        Assert.Equal(1, Interlocked.Read(ref _joiner.Metrics.SnapshotsRefused));
        Assert.Equal(0UL, _joiner.Status.Applied);
    }

    /// <summary>A network that loses everything: the joiner only hears what the test hands it.</summary>
    private sealed class NoTransport : IPeerTransport
    {
        public void SetPeer(ulong id, IReadOnlyList<Uri> peerUrls)
        {
        }

        public void RemovePeer(ulong id)
        {
        }

        public void Send(in Message message)
        {
        }

        public void SendSnapshot(in Message message, Stream data) => data.Dispose();

        public void HeardFrom(ulong id)
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
