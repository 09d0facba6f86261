using System.Collections.Concurrent;
using System.Collections.Immutable;
using Kvorum.Raft;
using Kvorum.Server.Node;
using Kvorum.Server.Transport;
using Wire = Kvorum.Server.Transport.Wire;

namespace Kvorum.Server.Tests.Node.Agreement;

/// <summary>
/// An in-memory network between members' loops that loses, delays (and so reorders) and cuts messages on command,
/// and carries snapshots as the gRPC transport does: the sender's file is copied into the stream the recipient's
/// <see cref="IRaftMessageSink.BeginSnapshot"/> returns, off the loops, then handed over with
/// <see cref="IRaftMessageSink.OnSnapshot"/>. Every message is copied through the wire codec at send time, as the
/// real transport serializes it. The member an id stands for can change (a restart opens a new <see cref="KvorumNode"/>
/// on the same data directory): delivery goes to the current one, or nowhere while it is down.
/// </summary>
internal sealed class ChaosNetwork
{
    private readonly ConcurrentDictionary<ulong, KvorumNode> _up = new();

    // The directed links that are cut, and the loss applied to every message, in percent.
    private ImmutableHashSet<(ulong From, ulong To)> _cut = [];
    private int _lossPercent;

    // Members whose appends are dropped (with the percentage): they fall behind and live on snapshots.
    private ImmutableDictionary<ulong, int> _appendLoss = ImmutableDictionary<ulong, int>.Empty;

    // Members to which a snapshot's transfer fails (with the percentage), as a large upload over a bad link does.
    private ImmutableDictionary<ulong, int> _snapshotLoss = ImmutableDictionary<ulong, int>.Empty;

    private long _delivered;
    private long _dropped;
    private long _snapshotsDelivered;
    private long _snapshotsFailed;

    /// <summary>Messages delivered, messages dropped, snapshots installed in a recipient's storage, snapshot sends that failed.</summary>
    public (long Delivered, long Dropped, long Snapshots, long SnapshotsFailed) Counters =>
        (Interlocked.Read(ref _delivered), Interlocked.Read(ref _dropped), Interlocked.Read(ref _snapshotsDelivered), Interlocked.Read(ref _snapshotsFailed));

    /// <summary>The member <paramref name="id"/> now receives what is sent to it.</summary>
    public void Up(ulong id, KvorumNode node) => _up[id] = node;

    /// <summary>The member <paramref name="id"/> is down: what is sent to it is lost and its senders told it is unreachable.</summary>
    public void Down(ulong id) => _up.TryRemove(id, out _);

    /// <summary>The link for member <paramref name="id"/>, whose loop is <paramref name="self"/>.</summary>
    public IPeerTransport LinkFor(ulong id, KvorumNode self) => new Link(this, id, self);

    /// <summary>
    /// Cuts every link between <paramref name="a"/> and <paramref name="b"/>, both ways unless <paramref name="oneWay"/>
    /// (then a → b only), and heals every link cut before.
    /// </summary>
    public void Cut(IEnumerable<ulong> a, IEnumerable<ulong> b, bool oneWay = false)
    {
        var builder = ImmutableHashSet.CreateBuilder<(ulong From, ulong To)>();
        var bs = b.ToArray();
        foreach (var x in a)
        {
            foreach (var y in bs)
            {
                if (x == y)
                    continue;
                builder.Add((x, y));
                if (!oneWay)
                    builder.Add((y, x));
            }
        }
        Volatile.Write(ref _cut, builder.ToImmutable());
    }

    /// <summary>From now on, loses <paramref name="percent"/> of all messages.</summary>
    public void Loss(int percent) => Volatile.Write(ref _lossPercent, percent);

    /// <summary>From now on, loses <paramref name="percent"/> of the appends sent to <paramref name="id"/>.</summary>
    public void LoseAppendsTo(ulong id, int percent) => ImmutableInterlocked.Update(ref _appendLoss, d => percent > 0 ? d.SetItem(id, percent) : d.Remove(id));

    /// <summary>From now on, fails <paramref name="percent"/> of the snapshot transfers to <paramref name="id"/>.</summary>
    public void LoseSnapshotsTo(ulong id, int percent) => ImmutableInterlocked.Update(ref _snapshotLoss, d => percent > 0 ? d.SetItem(id, percent) : d.Remove(id));

    /// <summary>Heals every cut link and ends the loss of all messages; followers cut off from appends stay so.</summary>
    public void HealLinks()
    {
        Volatile.Write(ref _cut, []);
        Volatile.Write(ref _lossPercent, 0);
    }

    /// <summary>Removes every fault.</summary>
    public void Heal()
    {
        HealLinks();
        Volatile.Write(ref _appendLoss, ImmutableDictionary<ulong, int>.Empty);
        Volatile.Write(ref _snapshotLoss, ImmutableDictionary<ulong, int>.Empty);
    }

    /// <summary>The faults in force, for the run's log.</summary>
    public string Describe() =>
        $"cut [{string.Join(' ', Volatile.Read(ref _cut).Select(c => $"{c.From:x}>{c.To:x}"))}] loss {Volatile.Read(ref _lossPercent)}% "
        + $"append loss [{string.Join(' ', Volatile.Read(ref _appendLoss).Select(p => $"{p.Key:x}:{p.Value}%"))}] "
        + $"snapshot loss [{string.Join(' ', Volatile.Read(ref _snapshotLoss).Select(p => $"{p.Key:x}:{p.Value}%"))}]";

    private bool IsCut(ulong from, ulong to) => Volatile.Read(ref _cut).Contains((from, to));

    private bool LostAppend(in Message m) =>
        m.Type == MessageType.Append && Volatile.Read(ref _appendLoss).TryGetValue(m.To, out var loss) && Random.Shared.Next(100) < loss;

    private void Send(ulong from, KvorumNode sender, in Message message)
    {
        if (IsCut(from, message.To) || !_up.ContainsKey(message.To))
        {
            // A cut link or a member that is down is a broken connection, which the real transport reports.
            Interlocked.Increment(ref _dropped);
            sender.OnUnreachable(message.To);
            return;
        }
        if (LostAppend(message))
        {
            // A follower cut off from the leader's appends: each loss is a stream that broke, which the real
            // transport reports, so the leader probes it, and sends a snapshot once its log no longer reaches back.
            Interlocked.Increment(ref _dropped);
            sender.OnUnreachable(message.To);
            return;
        }
        if (Volatile.Read(ref _lossPercent) is var loss and > 0 && Random.Shared.Next(100) < loss)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        var wire = MessageCodec.Encode(message);
        var to = message.To;
        // A few messages arrive late, after ones sent later: the real transport reorders across reconnections.
        if (Random.Shared.Next(100) < 5)
        {
            _ = Task.Delay(Random.Shared.Next(1, 30)).ContinueWith(_ => Deliver(from, to, wire), TaskScheduler.Default);
            return;
        }
        Deliver(from, to, wire);
    }

    private void Deliver(ulong from, ulong to, Wire.RaftMessage wire)
    {
        if (IsCut(from, to) || !_up.TryGetValue(to, out var recipient))
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        Interlocked.Increment(ref _delivered);
        recipient.OnMessage(MessageCodec.Decode(wire));
    }

    private void SendSnapshot(ulong from, KvorumNode sender, in Message message, Stream data)
    {
        var m = message;
        _ = Task.Run(() =>
        {
            var ok = false;
            try
            {
                ok = CopySnapshot(from, m, data);
            }
            finally
            {
                data.Dispose();
                if (!ok)
                {
                    Interlocked.Increment(ref _snapshotsFailed);
                    sender.OnUnreachable(m.To);
                }
                sender.OnSnapshotSent(m.To, ok);
            }
        });
    }

    /// <summary>Streams <paramref name="data"/> into the recipient's storage; false when the link or the recipient failed meanwhile.</summary>
    private bool CopySnapshot(ulong from, Message m, Stream data)
    {
        if (IsCut(from, m.To) || !_up.TryGetValue(m.To, out var recipient))
            return false;
        if (Volatile.Read(ref _snapshotLoss).TryGetValue(m.To, out var loss) && Random.Shared.Next(100) < loss)
            return false;
        var decoded = MessageCodec.Decode(MessageCodec.Encode(m));
        Stream received;
        try
        {
            received = recipient.BeginSnapshot(decoded);
        }
#pragma warning disable CA1031 // A recipient that refuses (an older snapshot, a closed storage) fails the send, as over gRPC.
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }
        try
        {
            data.CopyTo(received);
        }
#pragma warning disable CA1031 // The recipient closed meanwhile (a restart): the send fails.
        catch (Exception)
#pragma warning restore CA1031
        {
            received.Dispose();
            return false;
        }
        // The recipient must still be the one that began receiving, and reachable.
        if (IsCut(from, m.To) || !_up.TryGetValue(m.To, out var now) || !ReferenceEquals(now, recipient))
        {
            received.Dispose();
            return false;
        }
        recipient.OnSnapshot(decoded, received);
        Interlocked.Increment(ref _snapshotsDelivered);
        return true;
    }

    /// <summary>One member's end of the network.</summary>
    private sealed class Link(ChaosNetwork network, ulong id, KvorumNode self) : IPeerTransport
    {
        public void SetPeer(ulong peer, IReadOnlyList<Uri> peerUrls)
        {
        }

        public void RemovePeer(ulong peer)
        {
        }

        public void Send(in Message message) => network.Send(id, self, message);

        public void SendSnapshot(in Message message, Stream data) => network.SendSnapshot(id, self, message, data);

        public void HeardFrom(ulong peer)
        {
        }

        // Never read: the chaos cluster's members run without the strict reconfiguration check (ChaosCluster.Options).
        public TimeSpan? ConnectedFor(ulong peer) => null;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
