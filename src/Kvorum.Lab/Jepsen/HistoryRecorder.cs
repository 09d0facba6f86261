using System.Collections.Concurrent;
using System.Diagnostics;
using Kvorum.Lab.Checking;

namespace Kvorum.Lab.Jepsen;

/// <summary>
/// Collects the operations of every client, thread-safely, with times in microseconds since the check
/// started: an operation's invocation is stamped before its request is sent and its completion after its
/// answer arrives, so real-time order in the history is never tighter than it was on the wire.
/// </summary>
internal sealed class HistoryRecorder
{
    private readonly Stopwatch _clock;
    private readonly ConcurrentQueue<Operation> _operations = new();
    private long _nextId;

    /// <summary>Creates a recorder on <paramref name="clock"/>.</summary>
    /// <param name="clock">The check's clock.</param>
    public HistoryRecorder(Stopwatch clock) => _clock = clock;

    /// <summary>Microseconds since the start.</summary>
    public long Now => _clock.ElapsedTicks * 1_000_000 / Stopwatch.Frequency;

    /// <summary>A fresh operation id.</summary>
    public long NextId() => Interlocked.Increment(ref _nextId);

    /// <summary>Adds a finished (or given-up) operation.</summary>
    public void Add(Operation operation) => _operations.Enqueue(operation);

    /// <summary>Every operation so far, in id order.</summary>
    public History ToHistory() => new(_operations.OrderBy(o => o.Id));
}
