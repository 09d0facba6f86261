using System.Diagnostics;
using Kvorum.Raft;
using Kvorum.Server.Node;

namespace Kvorum.Server.Observe;

/// <summary>
/// The watchers of one member and what is published to them: owned by the member loop (<see cref="LoopOwner"/>), which
/// adds and removes watchers, and reports the messages it sends and receives and its state after each turn. The loop
/// checks <see cref="Active"/> first, so that with no watcher the stream costs one branch and nothing else.
/// </summary>
internal sealed class MemberObservers(LoopOwner owner, int queueCapacity = MemberObservers.DefaultQueueCapacity, MessageSampling? sampling = null)
{
    /// <summary>Events one watcher's queue holds before it drops messages.</summary>
    public const int DefaultQueueCapacity = 8192;

    /// <summary>Heartbeat and append events (with their responses) a member publishes per <see cref="SamplingWindow"/> at most.</summary>
    public const int DefaultSamplingBudget = 200;

    /// <summary>The window of the sampling budget.</summary>
    public static readonly TimeSpan SamplingWindow = TimeSpan.FromMilliseconds(100);

    private readonly MessageSampling _sampling = sampling ?? new MessageSampling(DefaultSamplingBudget, SamplingWindow);
    private readonly Dictionary<ulong, ulong> _sentSeq = [];
    private readonly Dictionary<ulong, ulong> _receivedSeq = [];
    private ObserverQueue[] _queues = [];

    /// <summary>True while someone watches; a plain field, read and written on the loop only.</summary>
    public bool Active;

    /// <summary>The state published last, or null with no watcher.</summary>
    public ObservedState? LastState { get; private set; }

    /// <summary>Creates a watcher's queue; hand it to <see cref="Add"/> on the loop.</summary>
    public ObserverQueue NewQueue() => new(queueCapacity);

    /// <summary>On the loop: adds a watcher, whose first event is <paramref name="current"/>.</summary>
    public void Add(ObserverQueue queue, ObservedState current)
    {
        owner.AssertOwned();
        if (!Active)
        {
            _sentSeq.Clear();
            _receivedSeq.Clear();
            _sampling.Reset();
        }
        _queues = [.. _queues, queue];
        Active = true;
        LastState = current;
        queue.Offer(new ObservedEvent(ObservedKind.State, ObservedEvent.Now(), State: current));
    }

    /// <summary>On the loop: removes a watcher; the last one out makes the stream free again.</summary>
    public void Remove(ObserverQueue queue)
    {
        owner.AssertOwned();
        _queues = [.. _queues.Where(q => q != queue)];
        Active = _queues.Length > 0;
        if (!Active)
            LastState = null;
    }

    /// <summary>On the loop: publishes a new state to every watcher.</summary>
    public void PublishState(ObservedState state)
    {
        owner.AssertOwned();
        LastState = state;
        Publish(new ObservedEvent(ObservedKind.State, ObservedEvent.Now(), State: state));
    }

    /// <summary>On the loop: <paramref name="m"/> is handed to the transport.</summary>
    public void Sent(in Message m) => PublishMessage(ObservedKind.Sent, m, _sentSeq, m.To);

    /// <summary>On the loop: <paramref name="m"/> arrived and is about to be stepped.</summary>
    public void Received(in Message m) => PublishMessage(ObservedKind.Received, m, _receivedSeq, m.From);

    private void PublishMessage(ObservedKind kind, in Message m, Dictionary<ulong, ulong> seqs, ulong peer)
    {
        owner.AssertOwned();
        var seq = seqs.TryGetValue(peer, out var last) ? last + 1 : 1;
        seqs[peer] = seq;
        var admitted = _sampling.Admit(m.Type, Stopwatch.GetTimestamp(), out var skipped);
        var now = ObservedEvent.Now();
        if (skipped > 0)
            Publish(new ObservedEvent(ObservedKind.Dropped, now, Sampled: skipped));
        if (admitted)
            Publish(new ObservedEvent(kind, now, ObservedMessage.Of(m, seq)));
    }

    private void Publish(in ObservedEvent e)
    {
        foreach (var q in _queues)
            q.Offer(e);
    }
}
