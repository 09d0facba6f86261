using System.Buffers.Binary;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Node;

namespace Kvorum.Server.Tests.Node;

/// <summary>
/// The linearizable reads a member waits on (<see cref="LinearizableReads"/>), against a stand-in for the Raft core
/// that records the ReadIndex requests it is asked and answers as the test says.
/// </summary>
public sealed class LinearizableReadsTests
{
    private const int RetryTicks = 5;
    private const int LeaderWaitTicks = 50;
    private const ulong FirstContext = 1000;

    private readonly List<ulong> _asked = [];
    private readonly NodeMetrics _metrics = new();
    private ulong _leader = 1;
    private bool _leaderKnown = true;

    private LinearizableReads Reads(LoopOwner? owner = null) =>
        new(context =>
            {
                if (!_leaderKnown)
                    return false;
                _asked.Add(BinaryPrimitives.ReadUInt64LittleEndian(context.Span));
                return true;
            },
            () => _leader, RetryTicks, LeaderWaitTicks, FirstContext, _metrics, owner);

    private static byte[] Context(ulong context)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, context);
        return bytes;
    }

    /// <summary>A read that records what became of it.</summary>
    private sealed class Read
    {
        public Read() => Client = new ClientRead(() => Ran = true, e => Error = Assert.IsType<EtcdException>(e));

        public ClientRead Client { get; }

        public bool Ran { get; private set; }

        public EtcdException? Error { get; private set; }
    }

    private static Read[] Enqueue(LinearizableReads reads, int count, long now = 0)
    {
        var queued = Enumerable.Range(0, count).Select(_ => new Read()).ToArray();
        foreach (var read in queued)
            reads.Enqueue(read.Client, now);
        return queued;
    }

    [Fact]
    public void The_reads_queued_share_one_request_and_run_once_the_member_applied_its_read_index()
    {
        var reads = Reads();
        var batch = Enqueue(reads, 3);

        Assert.True(reads.Flush(now: 0));
        Assert.Equal([FirstContext + 1], _asked);
        Assert.Equal(1, _metrics.ReadIndexRequests);
        Assert.Equal(0, reads.Queued);

        reads.OnReadState(Context(FirstContext + 1), index: 50);
        Assert.Equal(3, reads.AwaitingApply);
        reads.ServeApplied(49);
        Assert.All(batch, r => Assert.False(r.Ran));
        reads.ServeApplied(50);
        Assert.All(batch, r => Assert.True(r.Ran));
        Assert.Equal(3, _metrics.LinearizableReads);
        Assert.Equal(0, reads.AwaitingApply);
    }

    [Fact]
    public void Reads_arriving_while_a_request_waits_for_its_answer_wait_for_the_next_one()
    {
        var reads = Reads();
        Enqueue(reads, 1);
        reads.Flush(0);
        var later = Enqueue(reads, 2);

        Assert.False(reads.Flush(1));
        Assert.Single(_asked);
        Assert.Equal(2, reads.Queued);

        reads.OnReadState(Context(FirstContext + 1), 10);
        Assert.True(reads.Flush(2));
        Assert.Equal([FirstContext + 1, FirstContext + 2], _asked);
        reads.OnReadState(Context(FirstContext + 2), 10);
        reads.ServeApplied(10);
        Assert.All(later, r => Assert.True(r.Ran));
    }

    [Fact]
    public void Without_a_leader_the_reads_wait_for_one_and_go_with_the_first_request_once_it_is_known()
    {
        _leaderKnown = false;
        var reads = Reads();
        var batch = Enqueue(reads, 2);

        Assert.False(reads.Flush(0));
        reads.AskAgain(LeaderWaitTicks - 1);
        Assert.False(reads.Flush(LeaderWaitTicks - 1));

        Assert.All(batch, r => Assert.Null(r.Error));
        Assert.Equal((2, 0, 0L), (reads.Queued, reads.InFlight, _metrics.ReadIndexRequests));

        _leaderKnown = true;
        Assert.True(reads.Flush(LeaderWaitTicks - 1));
        Assert.Equal([FirstContext + 1], _asked);
        reads.OnReadState(Context(FirstContext + 1), 3);
        reads.ServeApplied(3);
        Assert.All(batch, r => Assert.True(r.Ran));
    }

    [Fact]
    public void Reads_that_waited_the_leader_wait_without_a_leader_fail_with_request_timed_out_and_later_ones_keep_waiting()
    {
        _leaderKnown = false;
        var reads = Reads();
        var early = Enqueue(reads, 2, now: 0);
        var late = Enqueue(reads, 1, now: 10);

        reads.AskAgain(LeaderWaitTicks);

        Assert.All(early, r => Assert.Equal(EtcdErrors.TimedOut, r.Error?.Error));
        Assert.All(late, r => Assert.Null(r.Error));
        Assert.Equal(1, reads.Queued);
        reads.AskAgain(LeaderWaitTicks + 10);
        Assert.All(late, r => Assert.Equal(EtcdErrors.TimedOut, r.Error?.Error));
        Assert.Equal(0, reads.Queued);
    }

    [Fact]
    public void An_unanswered_request_is_asked_again_with_its_context_after_the_retry_interval_and_a_late_duplicate_answer_is_ignored()
    {
        var reads = Reads();
        var batch = Enqueue(reads, 1);
        reads.Flush(now: 10);

        reads.AskAgain(10 + RetryTicks - 1);
        Assert.Single(_asked);
        reads.AskAgain(10 + RetryTicks);
        Assert.Equal([FirstContext + 1, FirstContext + 1], _asked);
        reads.AskAgain(10 + RetryTicks + 1); // counted from the second asking
        Assert.Equal(2, _asked.Count);

        reads.OnReadState(Context(FirstContext + 1), 5);
        reads.OnReadState(Context(FirstContext + 1), 7);
        reads.ServeApplied(7);
        Assert.True(batch[0].Ran);
        Assert.Equal(1, _metrics.LinearizableReads);
    }

    [Fact]
    public void A_request_due_to_be_asked_again_after_its_leader_changed_fails_with_leader_changed()
    {
        var reads = Reads();
        var batch = Enqueue(reads, 2);
        reads.Flush(0);

        _leader = 2;
        reads.AskAgain(RetryTicks);

        Assert.Single(_asked);
        Assert.All(batch, r => Assert.Equal(EtcdErrors.LeaderChanged, r.Error?.Error));
        Assert.Equal(0, reads.InFlight);
    }

    [Fact]
    public void A_leader_change_fails_the_reads_asked_of_another_leader_only()
    {
        var reads = Reads();
        var ofLeader1 = Enqueue(reads, 1);
        reads.Flush(0);

        reads.FailOtherLeaders(1);
        Assert.Null(ofLeader1[0].Error);
        Assert.Equal(1, reads.InFlight);

        reads.FailOtherLeaders(2);
        Assert.Equal(EtcdErrors.LeaderChanged, ofLeader1[0].Error?.Error);
        Assert.Equal(0, reads.InFlight);
        reads.OnReadState(Context(FirstContext + 1), 1); // its answer, if it still comes, finds nothing
        Assert.Equal(0, reads.AwaitingApply);
    }

    [Fact]
    public void Stopping_fails_reads_wherever_they_wait()
    {
        var reads = Reads();
        var awaiting = Enqueue(reads, 1);
        reads.Flush(0);
        reads.OnReadState(Context(FirstContext + 1), 100);
        var asked = Enqueue(reads, 1);
        reads.Flush(1);
        var queued = Enqueue(reads, 1);

        reads.FailAll(new EtcdException(EtcdErrors.ServerStopped));

        Assert.All(awaiting.Concat(asked).Concat(queued), r => Assert.Equal(EtcdErrors.ServerStopped, r.Error?.Error));
        Assert.Equal((0, 0, 0), (reads.Queued, reads.InFlight, reads.AwaitingApply));
    }

    [Fact]
    public void Only_the_loop_thread_changes_the_reads() =>
        LoopThread.AssertOnlyTheLoopMay(owner => Reads(owner).Enqueue(new Read().Client, 0));
}
