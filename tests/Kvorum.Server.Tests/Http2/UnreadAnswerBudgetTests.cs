using Kvorum.Server.Http2;

namespace Kvorum.Server.Tests.Http2;

public sealed class UnreadAnswerBudgetTests
{
    private const long MiB = 1 << 20;

    /// <summary>Long enough never to run out in a test that expects a grant.</summary>
    private static readonly TimeSpan Forever = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task Large_answers_take_from_the_budget_until_it_is_used_up_and_then_wait()
    {
        var budget = new UnreadAnswerBudget(10 * MiB);
        Assert.True(await budget.TakeAsync(4 * MiB, TimeSpan.Zero, CancellationToken.None));
        Assert.True(await budget.TakeAsync(6 * MiB, TimeSpan.Zero, CancellationToken.None));
        Assert.Equal(10 * MiB, budget.InUse);

        Assert.False(await budget.TakeAsync(1 * MiB, TimeSpan.Zero, CancellationToken.None));
        Assert.Equal(10 * MiB, budget.InUse);
    }

    [Fact]
    public async Task Small_answers_pass_without_counting_even_when_the_budget_is_used_up()
    {
        var budget = new UnreadAnswerBudget(1 * MiB);
        Assert.True(await budget.TakeAsync(1 * MiB, TimeSpan.Zero, CancellationToken.None));
        for (var i = 0; i < 1000; i++)
            Assert.True(await budget.TakeAsync(UnreadAnswerBudget.SmallAnswerBytes - 1, TimeSpan.Zero, CancellationToken.None));
        Assert.Equal(1 * MiB, budget.InUse);
        budget.Release(UnreadAnswerBudget.SmallAnswerBytes - 1);
        Assert.Equal(1 * MiB, budget.InUse);
        Assert.False(await budget.TakeAsync(UnreadAnswerBudget.SmallAnswerBytes, TimeSpan.Zero, CancellationToken.None));
    }

    [Fact]
    public async Task A_waiting_answer_is_let_in_when_another_gives_its_bytes_back()
    {
        var budget = new UnreadAnswerBudget(10 * MiB);
        Assert.True(await budget.TakeAsync(8 * MiB, TimeSpan.Zero, CancellationToken.None));
        var waiting = budget.TakeAsync(5 * MiB, Forever, CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, budget.Waiting);

        budget.Release(8 * MiB);
        Assert.True(await waiting.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(5 * MiB, budget.InUse);
        Assert.Equal(0, budget.Waiting);
    }

    [Fact]
    public async Task Waiters_are_let_in_first_come_first_served_so_a_large_one_is_not_passed_by_smaller_ones()
    {
        var budget = new UnreadAnswerBudget(10 * MiB);
        Assert.True(await budget.TakeAsync(6 * MiB, TimeSpan.Zero, CancellationToken.None));
        var large = budget.TakeAsync(9 * MiB, Forever, CancellationToken.None).AsTask();
        // Would fit beside the 6 MiB, but comes after the large one.
        var later = budget.TakeAsync(2 * MiB, Forever, CancellationToken.None).AsTask();
        Assert.False(later.IsCompleted);

        budget.Release(6 * MiB);
        Assert.True(await large.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.False(later.IsCompleted);
        budget.Release(9 * MiB);
        Assert.True(await later.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(2 * MiB, budget.InUse);
    }

    [Fact]
    public async Task A_wait_that_runs_out_says_so_and_leaves_the_line_to_those_behind()
    {
        var budget = new UnreadAnswerBudget(10 * MiB);
        Assert.True(await budget.TakeAsync(6 * MiB, TimeSpan.Zero, CancellationToken.None));
        var first = budget.TakeAsync(9 * MiB, TimeSpan.FromMilliseconds(50), CancellationToken.None).AsTask();
        var behind = budget.TakeAsync(3 * MiB, Forever, CancellationToken.None).AsTask();

        Assert.False(await first.WaitAsync(TimeSpan.FromSeconds(30)));
        // The 3 MiB fit beside the 6 MiB once the 9 MiB no longer stand before them.
        Assert.True(await behind.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(9 * MiB, budget.InUse);
    }

    [Fact]
    public async Task A_cancelled_wait_throws_and_takes_nothing()
    {
        var budget = new UnreadAnswerBudget(10 * MiB);
        Assert.True(await budget.TakeAsync(10 * MiB, TimeSpan.Zero, CancellationToken.None));
        using var cancel = new CancellationTokenSource();
        var waiting = budget.TakeAsync(1 * MiB, Forever, cancel.Token).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(0, budget.Waiting);

        budget.Release(10 * MiB);
        Assert.Equal(0, budget.InUse);
    }

    [Fact]
    public async Task An_answer_larger_than_the_whole_budget_goes_alone()
    {
        var budget = new UnreadAnswerBudget(10 * MiB);
        Assert.True(await budget.TakeAsync(1 * MiB, TimeSpan.Zero, CancellationToken.None));
        var huge = budget.TakeAsync(50 * MiB, Forever, CancellationToken.None).AsTask();
        Assert.False(huge.IsCompleted);

        budget.Release(1 * MiB);
        Assert.True(await huge.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.False(await budget.TakeAsync(1 * MiB, TimeSpan.Zero, CancellationToken.None));
        budget.Release(50 * MiB);
        Assert.Equal(0, budget.InUse);
    }

    [Fact]
    public async Task Many_takers_and_givers_at_once_end_with_nothing_in_use()
    {
        var budget = new UnreadAnswerBudget(8 * MiB);
        var granted = 0;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(t => Task.Run(async () =>
        {
            var random = new Random(t);
            for (var i = 0; i < 200; i++)
            {
                var bytes = random.Next(UnreadAnswerBudget.SmallAnswerBytes, (int)(3 * MiB));
                var wait = random.Next(3) == 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(random.Next(1, 20));
                if (!await budget.TakeAsync(bytes, wait, CancellationToken.None))
                    continue;
                Interlocked.Increment(ref granted);
                Assert.InRange(budget.InUse, bytes, 8 * MiB);
                await Task.Yield();
                budget.Release(bytes);
            }
        })));
        Assert.True(granted > 0);
        Assert.Equal(0, budget.InUse);
        Assert.Equal(0, budget.Waiting);
    }

    [Fact]
    public void A_call_waits_until_a_little_before_its_deadline_or_five_seconds_without_one()
    {
        var now = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        Assert.Equal(UnreadAnswerBudget.WaitWithoutDeadline, UnreadAnswerBudget.WaitLimit(DateTime.MaxValue, now));
        Assert.Equal(TimeSpan.FromSeconds(9.5), UnreadAnswerBudget.WaitLimit(now.AddSeconds(10), now));
        Assert.Equal(TimeSpan.FromMilliseconds(900), UnreadAnswerBudget.WaitLimit(now.AddSeconds(1), now));
        Assert.Equal(TimeSpan.Zero, UnreadAnswerBudget.WaitLimit(now.AddSeconds(-1), now));
    }
}
