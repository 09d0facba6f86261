using System.Diagnostics;

namespace Kvorum.Server.Node;

/// <summary>
/// Counters and latency histograms of one member, updated by the loop and read by <c>/metrics</c>.
/// Counters are written with <see cref="Interlocked"/>; histogram buckets likewise, so a scrape never blocks the loop.
/// </summary>
internal sealed class NodeMetrics
{
    /// <summary>Times this member saw a new leader (including itself).</summary>
    public long LeaderChanges;

    /// <summary>Client writes proposed through this member.</summary>
    public long ProposalsSubmitted;

    /// <summary>Client writes that failed (no leader, timeout, leader change).</summary>
    public long ProposalsFailed;

    /// <summary>Committed entries applied.</summary>
    public long EntriesApplied;

    /// <summary>Messages the transport could not deliver (peer down, queue full).</summary>
    public long PeerSendFailures;

    /// <summary>ReadIndex requests this member made, each for a batch of linearizable reads.</summary>
    public long ReadIndexRequests;

    /// <summary>Linearizable reads answered here after their ReadIndex was confirmed.</summary>
    public long LinearizableReads;

    /// <summary>Raft messages handed to the transport, by <see cref="Raft.MessageType"/>.</summary>
    public readonly long[] MessagesSent = new long[32];

    /// <summary>Raft messages received from peers, by <see cref="Raft.MessageType"/>.</summary>
    public readonly long[] MessagesReceived = new long[32];

    /// <summary>Snapshots taken here.</summary>
    public long SnapshotsTaken;

    /// <summary>Snapshots sent under newer metadata than the core chose, because a newer one was made current meanwhile.</summary>
    public long SnapshotsRelabelled;

    /// <summary>Snapshots from a leader not installed because the state inside is not the one their metadata names.</summary>
    public long SnapshotsRefused;

    /// <summary>Raft messages refused because their sender is not a member (not in the configuration nor the member table).</summary>
    public long MessagesFromStrangers;

    /// <summary>Leader messages the core dropped because another member than its term's known leader sent them (written by the loop).</summary>
    public long ForeignLeaderMessages;

    /// <summary>Gen0 collections this member started itself to stay apart from the other followers (<see cref="GcStagger"/>).</summary>
    public long StaggeredCollections;

    /// <summary>Gen0 collections this member started as leader to keep its pauses short (<see cref="LeaderGcBudget"/>).</summary>
    public long LeaderBudgetCollections;

    /// <summary>Latency of making a Ready durable (WAL write + fsync), seconds; writes that need no fsync are not counted.</summary>
    public LatencyHistogram Fsync { get; } = new();

    /// <summary>Latency of applying one Ready's committed entries, seconds.</summary>
    public LatencyHistogram Apply { get; } = new();
}

/// <summary>A Prometheus-style cumulative histogram over fixed bucket bounds from 100 µs to 4 s.</summary>
internal sealed class LatencyHistogram
{
    /// <summary>Upper bounds of the buckets, in seconds.</summary>
    public static readonly double[] Bounds = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4];

    private readonly long[] _counts = new long[Bounds.Length + 1];
    private long _sumMicros;

    /// <summary>Records the time since <paramref name="startTimestamp"/> (from <see cref="Stopwatch.GetTimestamp"/>) and returns it.</summary>
    public TimeSpan ObserveSince(long startTimestamp)
    {
        var elapsed = Stopwatch.GetElapsedTime(startTimestamp);
        var seconds = elapsed.TotalSeconds;
        var i = 0;
        while (i < Bounds.Length && seconds > Bounds[i])
            i++;
        Interlocked.Increment(ref _counts[i]);
        Interlocked.Add(ref _sumMicros, (long)(seconds * 1_000_000));
        return elapsed;
    }

    /// <summary>Cumulative counts per bucket (the last is +Inf), the total count and the sum in seconds.</summary>
    public (long[] Cumulative, long Count, double Sum) Read()
    {
        var cumulative = new long[_counts.Length];
        long running = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            running += Interlocked.Read(ref _counts[i]);
            cumulative[i] = running;
        }
        return (cumulative, running, Interlocked.Read(ref _sumMicros) / 1_000_000.0);
    }
}
