using Kvorum.Raft.Harness;

namespace Kvorum.Raft.Tests.Simulation;

/// <summary>
/// A simulated network on the harness's wire: every message gets a random delay (so messages reorder), may be
/// dropped or duplicated, and is lost if its link is cut at send or delivery time. Links are directed, so a
/// one-way cut is just one blocked pair.
/// </summary>
internal sealed class SimNetwork(Random rng) : MessageWire
{
    public double DropRate { get; set; }

    public double DuplicateRate { get; set; }

    public int MinDelay { get; set; } = 1;

    public int MaxDelay { get; set; } = 5;

    /// <summary>Extra delay (up to this many time units) applied to a random 10% of messages: long reordering.</summary>
    public int LongDelay { get; set; }

    protected override bool Lost(in Message message) =>
        IsBlocked(message.From, message.To) || (DropRate > 0 && rng.NextDouble() < DropRate);

    protected override long Delay(in Message message)
    {
        var delay = rng.Next(MinDelay, MaxDelay + 1);
        if (LongDelay > 0 && rng.Next(10) == 0)
            delay += rng.Next(LongDelay);
        return delay;
    }

    protected override bool Duplicated(in Message message) => DuplicateRate > 0 && rng.NextDouble() < DuplicateRate;
}
