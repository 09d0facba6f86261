using Kvorum.Raft;
using Kvorum.Server.Observe;

namespace Kvorum.Server.Tests.Observe;

/// <summary>
/// A watcher's queue is bounded: a slow watcher loses message events and is told how many, and still gets the latest
/// state, exact, once it catches up; the member never waits for it.
/// </summary>
public sealed class ObserverQueueTests
{
    [Fact]
    public void A_full_queue_drops_messages_and_reports_how_many_after_the_queued_ones()
    {
        var queue = new ObserverQueue(4);
        for (var i = 1; i <= 10; i++)
            queue.Offer(Sent(seq: (ulong)i));

        var seqs = new List<ulong>();
        ObservedEvent e;
        while (queue.TryTake(out e) && e.Kind == ObservedKind.Sent)
            seqs.Add(e.Message.Seq);

        Assert.Equal([1UL, 2, 3, 4], seqs);
        Assert.Equal(ObservedKind.Dropped, e.Kind);
        Assert.Equal(6, e.Slow);
        Assert.False(queue.TryTake(out _));
    }

    [Fact]
    public void States_offered_while_full_are_kept_as_the_latest_one_and_come_last()
    {
        var queue = new ObserverQueue(2);
        queue.Offer(Sent(1));
        queue.Offer(Sent(2));
        queue.Offer(State(term: 5));
        queue.Offer(Sent(3));
        queue.Offer(State(term: 6));

        var kinds = new List<ObservedKind>();
        ObservedState? last = null;
        while (queue.TryTake(out var e))
        {
            kinds.Add(e.Kind);
            last = e.State ?? last;
        }

        Assert.Equal([ObservedKind.Sent, ObservedKind.Sent, ObservedKind.Dropped, ObservedKind.State], kinds);
        Assert.Equal(6UL, last!.Term);
    }

    [Fact]
    public void Sampled_counts_that_arrive_while_full_are_added_to_the_loss_report()
    {
        var queue = new ObserverQueue(1);
        queue.Offer(Sent(1));
        queue.Offer(Sent(2));
        queue.Offer(new ObservedEvent(ObservedKind.Dropped, 0, Sampled: 40));

        Assert.True(queue.TryTake(out _));
        Assert.True(queue.TryTake(out var report));
        Assert.Equal((1L, 40L), (report.Slow, report.Sampled));
    }

    [Fact]
    public async Task A_waiting_reader_wakes_when_an_event_is_offered()
    {
        var queue = new ObserverQueue(4);
        var waiting = queue.WaitAsync(CancellationToken.None);
        Assert.False(waiting.IsCompleted);

        queue.Offer(Sent(1));

        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(queue.TryTake(out var e));
        Assert.Equal(1UL, e.Message.Seq);
    }

    private static ObservedEvent Sent(ulong seq) =>
        new(ObservedKind.Sent, 0, ObservedMessage.Of(new Message { Type = MessageType.Append, From = 1, To = 2, Term = 1 }, seq));

    internal static ObservedEvent State(ulong term) => new(ObservedKind.State, 0, State: new ObservedState
    {
        Id = 1,
        Role = StateRole.Follower,
        Term = term,
        Vote = 0,
        Leader = 0,
        Commit = 0,
        Applied = 0,
        FirstIndex = 1,
        LastIndex = 0,
        LastTerm = 0,
        LogTail = [],
        Peers = [],
        ElectionElapsed = 0,
        RandomizedElectionTimeout = 11,
        TickMs = 100,
        Learner = false,
    });
}
