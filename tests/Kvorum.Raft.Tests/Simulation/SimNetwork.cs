namespace Kvorum.Raft.Tests.Simulation;

/// <summary>A message in flight, with the snapshot bytes a real transport would stream beside it.</summary>
internal readonly record struct Envelope(long DeliverAt, long Seq, Message Message, ReadOnlyMemory<byte> SnapshotData);

/// <summary>
/// A simulated network: every message gets a random delay (so messages reorder), may be dropped or
/// duplicated, and is lost if its link is cut at send or delivery time. Links are directed, so a
/// one-way cut is just one blocked pair.
/// </summary>
internal sealed class SimNetwork
{
    private readonly Random _rng;
    private readonly PriorityQueue<Envelope, (long, long)> _inFlight = new();
    private readonly HashSet<(ulong From, ulong To)> _blocked = [];
    private long _seq;

    public SimNetwork(Random rng) => _rng = rng;

    public double DropRate { get; set; }

    public double DuplicateRate { get; set; }

    public int MinDelay { get; set; } = 1;

    public int MaxDelay { get; set; } = 5;

    /// <summary>Extra delay (up to this many time units) applied to a random 10% of messages: long reordering.</summary>
    public int LongDelay { get; set; }

    public long Sent { get; private set; }

    public long Delivered { get; private set; }

    public Dictionary<MessageType, long> SentByType { get; } = [];

    public int InFlight => _inFlight.Count;

    public bool IsBlocked(ulong from, ulong to) => _blocked.Contains((from, to));

    public void Block(ulong from, ulong to) => _blocked.Add((from, to));

    public void Unblock(ulong from, ulong to) => _blocked.Remove((from, to));

    public void HealAll() => _blocked.Clear();

    public IReadOnlyCollection<(ulong From, ulong To)> Blocked => _blocked;

    /// <summary>Returns false if the message was lost at once (cut link or random drop).</summary>
    public bool Send(long now, Message m, ReadOnlyMemory<byte> snapshotData)
    {
        Sent++;
        SentByType[m.Type] = SentByType.GetValueOrDefault(m.Type) + 1;
        if (_blocked.Contains((m.From, m.To)))
            return false;
        if (DropRate > 0 && _rng.NextDouble() < DropRate)
            return false;
        Enqueue(now, m, snapshotData);
        if (DuplicateRate > 0 && _rng.NextDouble() < DuplicateRate)
            Enqueue(now, m, snapshotData);
        return true;
    }

    private void Enqueue(long now, Message m, ReadOnlyMemory<byte> data)
    {
        var delay = _rng.Next(MinDelay, MaxDelay + 1);
        if (LongDelay > 0 && _rng.Next(10) == 0)
            delay += _rng.Next(LongDelay);
        var env = new Envelope(now + delay, _seq++, m, data);
        _inFlight.Enqueue(env, (env.DeliverAt, env.Seq));
    }

    /// <summary>Takes the next message due at or before <paramref name="now"/> whose link is open.</summary>
    public bool TryDeliver(long now, out Envelope envelope)
    {
        while (_inFlight.TryPeek(out var env, out var prio) && prio.Item1 <= now)
        {
            _inFlight.Dequeue();
            if (_blocked.Contains((env.Message.From, env.Message.To)))
            {
                if (env.Message.Type == MessageType.Snapshot)
                    LostSnapshots.Add((env.Message.From, env.Message.To));
                continue;
            }
            Delivered++;
            envelope = env;
            return true;
        }
        envelope = default;
        return false;
    }

    public void Clear() => _inFlight.Clear();

    /// <summary>Snapshot messages lost at delivery time; a real transport would see the stream fail.</summary>
    public List<(ulong From, ulong To)> LostSnapshots { get; } = [];
}
