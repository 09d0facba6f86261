using System.Diagnostics.CodeAnalysis;

namespace Kvorum.Raft.Harness;

/// <summary>A message in flight, with the snapshot bytes a real transport would stream beside it.</summary>
internal readonly record struct Envelope(long DeliverAt, long Seq, Message Message, ReadOnlyMemory<byte> SnapshotData);

/// <summary>
/// The messages in flight between the nodes of a <see cref="RaftHarness{TNode}"/>, delivered in order of due time
/// and, at one time, of sending. As it stands it loses nothing and delays nothing, so messages arrive in the order
/// they were sent; a subclass loses, delays (and so reorders) or duplicates them by overriding <see cref="Lost"/>,
/// <see cref="Delay"/> and <see cref="Duplicated"/>. A message on a cut link (<see cref="Blocked"/>; links are
/// directed, so a one-way cut is one pair) is lost when it falls due.
/// </summary>
[SuppressMessage("Performance", "CA1852:Seal internal types", Justification = "The simulator extends it; the benchmark, which compiles the same file, does not.")]
internal class MessageWire
{
    private readonly PriorityQueue<Envelope, (long DeliverAt, long Seq)> _inFlight = new();
    private long _seq;

    /// <summary>Cut links, as (from, to).</summary>
    public HashSet<(ulong From, ulong To)> Blocked { get; } = [];

    public long Sent { get; private set; }

    public long Delivered { get; private set; }

    public Dictionary<MessageType, long> SentByType { get; } = [];

    public int InFlight => _inFlight.Count;

    /// <summary>Snapshot messages lost when they fell due on a cut link: a real transport would see the stream fail.</summary>
    public List<(ulong From, ulong To)> LostSnapshots { get; } = [];

    public bool IsBlocked(ulong from, ulong to) => Blocked.Contains((from, to));

    public void Block(ulong from, ulong to) => Blocked.Add((from, to));

    public void Unblock(ulong from, ulong to) => Blocked.Remove((from, to));

    public void HealAll() => Blocked.Clear();

    /// <summary>
    /// Sends <paramref name="message"/> at <paramref name="now"/>, which must own its entries (the core reuses
    /// a Ready's after Advance). Returns false if it was lost at once.
    /// </summary>
    public bool Send(long now, Message message, ReadOnlyMemory<byte> snapshotData)
    {
        Sent++;
        SentByType[message.Type] = SentByType.GetValueOrDefault(message.Type) + 1;
        if (Lost(message))
            return false;
        Enqueue(now, message, snapshotData);
        if (Duplicated(message))
            Enqueue(now, message, snapshotData);
        return true;
    }

    /// <summary>Takes the next message due at or before <paramref name="now"/> whose link is open.</summary>
    public bool TryDeliver(long now, out Envelope envelope)
    {
        while (_inFlight.TryPeek(out var next, out var due) && due.DeliverAt <= now)
        {
            _inFlight.Dequeue();
            if (IsBlocked(next.Message.From, next.Message.To))
            {
                if (next.Message.Type == MessageType.Snapshot)
                    LostSnapshots.Add((next.Message.From, next.Message.To));
                continue;
            }
            Delivered++;
            envelope = next;
            return true;
        }
        envelope = default;
        return false;
    }

    /// <summary>Takes every message in flight from <paramref name="from"/> off the wire, in delivery order, leaving the others.</summary>
    public List<Message> TakeFrom(ulong from)
    {
        var taken = new List<Message>();
        var kept = new List<(Envelope, (long, long))>();
        while (_inFlight.TryDequeue(out var envelope, out var due))
        {
            if (envelope.Message.From == from)
                taken.Add(envelope.Message);
            else
                kept.Add((envelope, due));
        }
        _inFlight.EnqueueRange(kept);
        return taken;
    }

    /// <summary>Whether <paramref name="message"/> is lost as it is sent; by default, nothing is.</summary>
    protected virtual bool Lost(in Message message) => false;

    /// <summary>How long <paramref name="message"/> (or its duplicate) takes to arrive; by default, no time.</summary>
    protected virtual long Delay(in Message message) => 0;

    /// <summary>Whether <paramref name="message"/> also arrives a second time; by default, never.</summary>
    protected virtual bool Duplicated(in Message message) => false;

    private void Enqueue(long now, Message message, ReadOnlyMemory<byte> snapshotData)
    {
        var envelope = new Envelope(now + Delay(message), _seq++, message, snapshotData);
        _inFlight.Enqueue(envelope, (envelope.DeliverAt, envelope.Seq));
    }
}
