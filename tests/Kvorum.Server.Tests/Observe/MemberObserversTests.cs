using Kvorum.Raft;
using Kvorum.Server.Node;
using Kvorum.Server.Observe;

namespace Kvorum.Server.Tests.Observe;

/// <summary>
/// The member's side of the stream: active only while someone watches, links numbered from one, messages past the
/// sampling budget reported as sampled, and every watcher served the same events.
/// </summary>
public sealed class MemberObserversTests
{
    private static readonly Message Heartbeat = new() { Type = MessageType.Heartbeat, From = 1, To = 2, Term = 3 };

    [Fact]
    public void The_stream_is_active_only_while_a_watcher_is_subscribed()
    {
        var observers = new MemberObservers(new LoopOwner());
        Assert.False(observers.Active);

        var queue = observers.NewQueue();
        observers.Add(queue, ObserverQueueTests.State(1).State!);
        Assert.True(observers.Active);

        observers.Remove(queue);
        Assert.False(observers.Active);
        Assert.Null(observers.LastState);
    }

    [Fact]
    public void Each_watcher_gets_the_state_first_then_every_message_with_the_link_numbered_from_one()
    {
        var observers = new MemberObservers(new LoopOwner());
        var first = observers.NewQueue();
        observers.Add(first, ObserverQueueTests.State(1).State!);
        observers.Sent(Heartbeat);
        observers.Sent(Heartbeat with { To = 3 });
        var second = observers.NewQueue();
        observers.Add(second, ObserverQueueTests.State(1).State!);
        observers.Sent(Heartbeat);
        observers.Received(Heartbeat with { Type = MessageType.HeartbeatResponse, From = 2, To = 1 });

        Assert.Equal(
            [(ObservedKind.State, 0UL, 0UL), (ObservedKind.Sent, 2UL, 1UL), (ObservedKind.Sent, 3UL, 1UL), (ObservedKind.Sent, 2UL, 2UL), (ObservedKind.Received, 2UL, 1UL)],
            Drain(first));
        Assert.Equal([(ObservedKind.State, 0UL, 0UL), (ObservedKind.Sent, 2UL, 2UL), (ObservedKind.Received, 2UL, 1UL)], Drain(second));
    }

    [Fact]
    public void A_new_first_watcher_starts_the_links_again_from_one()
    {
        var observers = new MemberObservers(new LoopOwner());
        var queue = observers.NewQueue();
        observers.Add(queue, ObserverQueueTests.State(1).State!);
        observers.Sent(Heartbeat);
        observers.Remove(queue);
        observers.Sent(Heartbeat); // not published, not counted: nobody watches (the loop would not even call)

        var again = observers.NewQueue();
        observers.Add(again, ObserverQueueTests.State(1).State!);
        observers.Sent(Heartbeat);

        Assert.Equal([(ObservedKind.State, 0UL, 0UL), (ObservedKind.Sent, 2UL, 1UL)], Drain(again));
    }

    [Fact]
    public void Messages_past_the_sampling_budget_are_reported_as_sampled_and_votes_always_pass()
    {
        var observers = new MemberObservers(new LoopOwner(), sampling: new MessageSampling(2, TimeSpan.FromDays(1)));
        var queue = observers.NewQueue();
        observers.Add(queue, ObserverQueueTests.State(1).State!);
        for (var i = 0; i < 5; i++)
            observers.Sent(Heartbeat);
        observers.Sent(Heartbeat with { Type = MessageType.Vote });

        var sent = Drain(queue).Where(e => e.Kind == ObservedKind.Sent).Select(e => e.Seq).ToList();
        // Seqs count every message on the link, published or not: the gap shows what sampling left out.
        Assert.Equal([1UL, 2, 6], sent);
    }

    private static List<(ObservedKind Kind, ulong Peer, ulong Seq)> Drain(ObserverQueue queue)
    {
        var events = new List<(ObservedKind, ulong, ulong)>();
        while (queue.TryTake(out var e))
            events.Add((e.Kind, e.Kind == ObservedKind.Sent ? e.Message.To : e.Message.From, e.Message.Seq));
        return events;
    }
}
