using Kvorum.Tests.Shared;
using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Raft;
using Kvorum.Server.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Wire = Kvorum.Server.Transport.Wire;

namespace Kvorum.Server.Tests.Transport;

/// <summary>Two members' transports against real Kestrel servers on loopback ports.</summary>
public class LoopbackTests
{
    private const ulong Cluster = 0xC1;
    private const ulong A = 1;
    private const ulong B = 2;

    private static readonly TransportOptions Options = new();

    private static GrpcPeerTransport Transport(ulong self, RecordingSink sink, ulong cluster = Cluster) =>
        new(self, cluster, sink, NullLogger.Instance, Options);

    private static Message Append(ulong from, ulong to, ulong index) => new()
    {
        Type = MessageType.Append,
        From = from,
        To = to,
        Term = 3,
        Index = index - 1,
        LogTerm = 3,
        Commit = index - 1,
        Entries = new Entry[] { new(index, 3, BitConverter.GetBytes(index * 31)) },
    };

    [Fact]
    public async Task Messages_arrive_in_order_batched_in_both_directions()
    {
        await using var hostA = await PeerHost.StartAsync(Cluster);
        await using var hostB = await PeerHost.StartAsync(Cluster);
        var sinkA = new RecordingSink();
        var sinkB = new RecordingSink();
        await using var fromA = Transport(A, sinkA);
        await using var fromB = Transport(B, sinkB);
        fromA.SetPeer(A, [hostA.Url]); // self: ignored
        fromA.SetPeer(B, [hostB.Url]);
        fromB.SetPeer(A, [hostA.Url]);
        const int count = 2000;

        for (ulong i = 1; i <= count; i++)
            fromA.Send(Append(A, B, i));
        fromB.Send(new Message { Type = MessageType.AppendResponse, From = B, To = A, Term = 3, Index = count });

        await RecordingSink.WaitFor(() => hostB.Sink.Messages.Length == count, $"{count} messages at B");
        await RecordingSink.WaitFor(() => hostA.Sink.Messages.Length == 1, "the response at A");
        var received = hostB.Sink.Messages;
        for (var i = 0; i < count; i++)
            MessageAssert.Same(Append(A, B, (ulong)i + 1), received[i]);
        Assert.Equal(MessageType.AppendResponse, hostA.Sink.Messages[0].Type);
        Assert.InRange(hostB.Service.BatchesReceived, 1, count / 2);
        Assert.Empty(sinkA.Unreachable);
        Assert.Empty(sinkB.Unreachable);
    }

    [Fact]
    public async Task A_5_MiB_snapshot_arrives_intact_in_chunks()
    {
        await using var hostB = await PeerHost.StartAsync(Cluster);
        var sinkA = new RecordingSink();
        await using var fromA = Transport(A, sinkA);
        fromA.SetPeer(B, [hostB.Url]);
        var data = new byte[5 * 1024 * 1024];
        new Random(5).NextBytes(data);
        var message = new Message
        {
            Type = MessageType.Snapshot,
            From = A,
            To = B,
            Term = 4,
            Snapshot = new SnapshotMetadata(1234, 4, new ConfState([A, B], [3])),
        };

        var sent = new MemoryStream(data);
        fromA.SendSnapshot(message, sent);

        await RecordingSink.WaitFor(() => sinkA.SnapshotsSent.Length == 1, "OnSnapshotSent");
        Assert.Equal((B, true), sinkA.SnapshotsSent[0]);
        Assert.False(sent.CanRead, "the transport did not dispose the stream it sent");
        var received = Assert.Single(hostB.Sink.Snapshots);
        MessageAssert.Same(message, received.Message);
        Assert.True(data.AsSpan().SequenceEqual(received.Data));
        Assert.Equal(5, hostB.Service.ChunksReceived);
    }

    [Fact]
    public async Task A_snapshot_the_receiver_refuses_is_reported_failed()
    {
        await using var hostB = await PeerHost.StartAsync(Cluster);
        hostB.Sink.RefuseSnapshots = true;
        var sinkA = new RecordingSink();
        await using var fromA = Transport(A, sinkA);
        fromA.SetPeer(B, [hostB.Url]);

        fromA.SendSnapshot(new Message { Type = MessageType.Snapshot, From = A, To = B, Snapshot = SnapshotMetadata.Empty }, new MemoryStream(new byte[3 * 1024 * 1024]));

        await RecordingSink.WaitFor(() => sinkA.SnapshotsSent.Length == 1, "OnSnapshotSent");
        Assert.Equal((B, false), sinkA.SnapshotsSent[0]);
        Assert.Equal(1, hostB.Sink.SnapshotsBegun);
        Assert.Empty(hostB.Sink.Snapshots);
    }

    [Fact]
    public async Task A_down_peer_is_reported_costs_nothing_and_is_reached_once_it_is_up()
    {
        var port = FreePorts.Next();
        var sinkA = new RecordingSink();
        await using var fromA = Transport(A, sinkA);
        fromA.SetPeer(B, [new Uri($"http://127.0.0.1:{port}")]);

        // Before the first attempt has failed: queued up to capacity, then dropped.
        var clock = Stopwatch.StartNew();
        for (ulong i = 1; i <= 10_000; i++)
            fromA.Send(Append(A, B, i));
        var whileConnecting = clock.Elapsed;
        await RecordingSink.WaitFor(() => sinkA.Unreachable.Length > 0, "OnUnreachable");
        Assert.All(sinkA.Unreachable, peer => Assert.Equal(B, peer));

        // Known down: dropped without being encoded.
        clock.Restart();
        for (ulong i = 1; i <= 10_000; i++)
            fromA.Send(Append(A, B, i));
        var whileDown = clock.Elapsed;
        Assert.True(whileConnecting < TimeSpan.FromMilliseconds(300), $"10,000 sends while connecting took {whileConnecting}");
        Assert.True(whileDown < TimeSpan.FromMilliseconds(100), $"10,000 sends while down took {whileDown}");

        fromA.SendSnapshot(new Message { Type = MessageType.Snapshot, From = A, To = B, Snapshot = SnapshotMetadata.Empty }, new MemoryStream(new byte[10]));
        await RecordingSink.WaitFor(() => sinkA.SnapshotsSent.Length == 1, "OnSnapshotSent");
        Assert.Equal((B, false), sinkA.SnapshotsSent[0]);

        await using var hostB = await PeerHost.StartAsync(Cluster, port);
        await KeepSendingUntilReceived(fromA, hostB);
    }

    [Fact]
    public async Task Streams_reconnect_after_the_peer_restarts()
    {
        var sinkA = new RecordingSink();
        await using var fromA = Transport(A, sinkA);
        var first = await PeerHost.StartAsync(Cluster);
        var port = first.Url.Port;
        fromA.SetPeer(B, [first.Url]);
        await KeepSendingUntilReceived(fromA, first);

        await first.DisposeAsync();
        await RecordingSink.WaitFor(() => sinkA.Unreachable.Length > 0, "OnUnreachable after the peer stopped");

        await using var second = await PeerHost.StartAsync(Cluster, port);
        await KeepSendingUntilReceived(fromA, second);
    }

    [Fact]
    public async Task The_opening_batch_names_the_sender()
    {
        var sinkA = new RecordingSink();
        await using var fromA = Transport(A, sinkA);
        await using var hostB = await PeerHost.StartAsync(Cluster);
        fromA.SetPeer(B, [hostB.Url]);
        await KeepSendingUntilReceived(fromA, hostB);
        Assert.Equal([A], hostB.Sink.Connected);
    }

    [Fact]
    public async Task A_link_waiting_out_its_backoff_retries_at_once_when_the_peer_is_heard_from()
    {
        // Backoff of 2-4 s after the first failure (the link's own: the channel keeps none of its own).
        var slow = Options with { MinBackoff = TimeSpan.FromSeconds(4), MaxBackoff = TimeSpan.FromSeconds(8) };
        var port = FreePorts.Next();
        var sinkA = new RecordingSink();
        await using var fromA = new GrpcPeerTransport(A, Cluster, sinkA, NullLogger.Instance, slow);
        fromA.SetPeer(B, [new Uri($"http://127.0.0.1:{port}")]);
        await RecordingSink.WaitFor(() => sinkA.Unreachable.Length > 0, "the first attempt to fail");

        await using var hostB = await PeerHost.StartAsync(Cluster, port);
        // Left alone, the link stays in its backoff: nothing arrives for a second.
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(1))
        {
            fromA.Send(new Message { Type = MessageType.Heartbeat, From = A, To = B, Term = 1 });
            await Task.Delay(20);
        }
        Assert.Empty(hostB.Sink.Messages);

        // B shows it is up (the node calls this when B's stream to A opens): A retries now.
        clock.Restart();
        fromA.HeardFrom(B);
        await KeepSendingUntilReceived(fromA, hostB);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"reconnected {clock.ElapsedMilliseconds} ms after hearing from the peer");
    }

    [Fact]
    public async Task An_attempt_stuck_on_a_silent_connection_is_abandoned_when_the_peer_is_heard_from()
    {
        // Without the abandon, the stuck attempt would wait out the whole 30 s connect timeout.
        var patient = Options with { MinBackoff = TimeSpan.FromMilliseconds(50), MaxBackoff = TimeSpan.FromMilliseconds(100), ConnectTimeout = TimeSpan.FromSeconds(30) };
        await using var hostB = await PeerHost.StartAsync(Cluster);
        var port = FreePorts.Next();
        var sinkA = new RecordingSink();
        await using var fromA = new GrpcPeerTransport(A, Cluster, sinkA, NullLogger.Instance, patient);
        fromA.SetPeer(B, [new Uri($"http://127.0.0.1:{port}")]);
        await RecordingSink.WaitFor(() => sinkA.Unreachable.Length > 0, "the first attempt to fail");

        // The next attempt connects to a listener that never answers, and stays stuck there.
        await using var proxy = new StallingProxy(port, hostB.Url.Port);
        await RecordingSink.WaitFor(() => proxy.Accepted == 1, "the second attempt to connect");
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(1))
        {
            fromA.Send(new Message { Type = MessageType.Heartbeat, From = A, To = B, Term = 1 });
            await Task.Delay(20);
        }
        Assert.Empty(hostB.Sink.Messages);
        Assert.Equal(1, proxy.Accepted);

        // B shows it is up: A gives up the stuck attempt and connects again, this time through to B.
        clock.Restart();
        fromA.HeardFrom(B);
        await KeepSendingUntilReceived(fromA, hostB);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"reached B {clock.ElapsedMilliseconds} ms after hearing from it");
        Assert.Equal(2, proxy.Accepted);
    }

    [Fact]
    public async Task A_peer_down_for_seconds_is_reached_at_once_when_heard_from_after_coming_back()
    {
        // Each restart: down for 3 s (the connect timeout), so the link's backoff reaches its 1 s ceiling. A
        // reconnection layer with a connect budget of its own (the gRPC channel's) could keep a returned peer
        // unreachable that long.
        var sinkA = new RecordingSink();
        await using var fromA = Transport(A, sinkA);
        var host = await PeerHost.StartAsync(Cluster);
        var port = host.Url.Port;
        fromA.SetPeer(B, [host.Url]);
        await KeepSendingUntilReceived(fromA, host);
        var reached = new List<long>();
        try
        {
            for (var round = 0; round < 2; round++)
            {
                await host.DisposeAsync();
                var down = Stopwatch.StartNew();
                while (down.Elapsed < Options.ConnectTimeout)
                {
                    fromA.Send(new Message { Type = MessageType.Heartbeat, From = A, To = B, Term = 1 });
                    await Task.Delay(20);
                }
                host = await PeerHost.StartAsync(Cluster, port);
                var clock = Stopwatch.StartNew();
                // As a member does when the returned peer's own stream to it opens.
                fromA.HeardFrom(B);
                await KeepSendingUntilReceived(fromA, host);
                reached.Add(clock.ElapsedMilliseconds);
            }
        }
        finally
        {
            await host.DisposeAsync();
        }
        // Heard from, so no backoff: one connect (tens of ms), well under the 3 s connect timeout every time.
        Assert.All(reached, ms => Assert.True(ms < 2000, $"reached B {ms} ms after it came back (rounds: {string.Join(", ", reached)})"));
    }

    [Fact]
    public async Task Another_clusters_stream_is_refused_with_failed_precondition()
    {
        await using var hostB = await PeerHost.StartAsync(Cluster);
        using var channel = GrpcChannel.ForAddress(hostB.Url);
        var client = new Wire.RaftPeer.RaftPeerClient(channel);

        using var call = client.Stream();
        var batch = new Wire.RaftBatch { ClusterId = Cluster + 1 };
        batch.Messages.Add(MessageCodec.Encode(Append(A, B, 1)));
        await call.RequestStream.WriteAsync(batch);

        var refused = await Assert.ThrowsAsync<RpcException>(() => call.ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.StartsWith("cluster id mismatch: ", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Empty(hostB.Sink.Messages);
    }

    [Fact]
    public async Task A_transport_of_another_cluster_finds_the_peer_unreachable()
    {
        await using var hostB = await PeerHost.StartAsync(Cluster);
        var sinkA = new RecordingSink();
        var log = new ListLogger();
        await using GrpcPeerTransport fromA = new(A, Cluster + 1, sinkA, log, Options);
        fromA.SetPeer(B, [hostB.Url]);

        fromA.Send(Append(A, B, 1));
        await RecordingSink.WaitFor(() => sinkA.Unreachable.Length > 0, "OnUnreachable");
        fromA.SendSnapshot(new Message { Type = MessageType.Snapshot, From = A, To = B, Snapshot = SnapshotMetadata.Empty }, new MemoryStream(new byte[10]));
        await RecordingSink.WaitFor(() => sinkA.SnapshotsSent.Length == 1, "OnSnapshotSent");

        Assert.Equal((B, false), sinkA.SnapshotsSent[0]);
        Assert.Empty(hostB.Sink.Messages);
        Assert.Empty(hostB.Sink.Snapshots);
        Assert.True(log.Lines.Any(line => line.Level == LogLevel.Error && line.Text.Contains("cluster id mismatch", StringComparison.Ordinal)), string.Join("\n", log.Lines));
        Assert.DoesNotContain(log.Lines, line => line.Text.Contains("is up", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unknown_and_removed_peers_are_unreachable_at_once()
    {
        var sinkA = new RecordingSink();
        await using var fromA = Transport(A, sinkA);
        fromA.SetPeer(B, [new Uri("http://127.0.0.1:1")]);
        fromA.RemovePeer(B);

        fromA.Send(Append(A, 3, 1));
        fromA.SendSnapshot(new Message { Type = MessageType.Snapshot, From = A, To = 3, Snapshot = SnapshotMetadata.Empty }, new MemoryStream(new byte[1]));
        var before = sinkA.Unreachable.Count(peer => peer == B); // the removed link may have reported its failed attempt
        fromA.Send(Append(A, B, 1));

        Assert.Equal([3UL], sinkA.Unreachable.Where(peer => peer != B));
        Assert.Equal(before + 1, sinkA.Unreachable.Count(peer => peer == B));
        Assert.Equal([(3UL, false)], sinkA.SnapshotsSent);
    }

    /// <summary>
    /// Sends a heartbeat every 20 ms until the host receives one: messages sent while the link is down are
    /// dropped by design, and the reconnect happens within one backoff period. Messages sent while a reconnection
    /// attempt was under way may arrive first (they were queued for it), so the heartbeat need not be the first.
    /// </summary>
    private static async Task KeepSendingUntilReceived(GrpcPeerTransport transport, PeerHost host)
    {
        var clock = Stopwatch.StartNew();
        while (!host.Sink.Messages.Any(m => m.Type == MessageType.Heartbeat))
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(10))
                Assert.Fail($"no heartbeat reached the peer within 10 s ({host.Sink.Messages.Length} other messages did)");
            transport.Send(new Message { Type = MessageType.Heartbeat, From = A, To = B, Term = 1 });
            await Task.Delay(20);
        }
    }
}
