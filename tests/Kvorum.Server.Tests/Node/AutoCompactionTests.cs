using Kvorum.Server.Node;

namespace Kvorum.Server.Tests.Node;

/// <summary>The auto-compaction policy (<see cref="AutoCompaction"/>): what it asks to compact, given times and revisions.</summary>
public sealed class AutoCompactionTests
{
    private static TimeSpan Min(double minutes) => TimeSpan.FromMinutes(minutes);

    [Fact]
    public void Periodic_compacts_to_the_revision_the_store_had_one_period_ago()
    {
        var policy = AutoCompaction.Periodic(Min(10));
        Assert.Equal(Min(1), policy.CheckInterval); // a tenth of the period

        // One check a minute while the store gains 100 revisions a minute.
        var answers = new List<(int Minute, long Revision)>();
        for (var minute = 0; minute <= 30; minute++)
        {
            var answer = policy.Check(Min(minute), 50 + 100 * minute);
            if (answer != 0)
                answers.Add((minute, answer));
        }

        // Nothing until a period has passed; then, each minute, the revision of ten minutes before.
        Assert.Equal(10, answers[0].Minute);
        Assert.All(answers, a => Assert.Equal(50 + 100 * (a.Minute - 10), a.Revision));
        Assert.Equal(21, answers.Count);
    }

    [Fact]
    public void Periodic_answers_nothing_new_while_the_store_does_not_change()
    {
        var policy = AutoCompaction.Periodic(Min(10));
        Assert.Equal(0, policy.Check(Min(0), 500));
        Assert.Equal(500, policy.Check(Min(10), 500));
        Assert.Equal(0, policy.Check(Min(20), 500)); // the same revision again: already answered
        Assert.Equal(0, policy.Check(Min(30), 500));
        Assert.Equal(0, policy.Check(Min(45), 700)); // the newest check at least 10 minutes back (minute 30) saw 500
        Assert.Equal(700, policy.Check(Min(55), 800)); // and now minute 45's
    }

    [Fact]
    public void Revision_keeps_the_last_revisions_and_checks_every_five_minutes()
    {
        var policy = AutoCompaction.Revisions(1000);
        Assert.Equal(Min(5), policy.CheckInterval);
        Assert.Equal(0, policy.Check(Min(0), 800)); // fewer revisions than it keeps
        Assert.Equal(500, policy.Check(Min(5), 1500));
        Assert.Equal(0, policy.Check(Min(10), 1500)); // nothing new
        Assert.Equal(2000, policy.Check(Min(15), 3000));
    }

    [Fact]
    public void The_options_turn_it_on_only_with_a_retention()
    {
        Assert.Null(AutoCompactor.PolicyOf(new ServerOptions()));
        Assert.Null(AutoCompactor.PolicyOf(new ServerOptions { AutoCompactionMode = AutoCompactionMode.Revision }));
        Assert.NotNull(AutoCompactor.PolicyOf(new ServerOptions { AutoCompactionPeriod = TimeSpan.FromHours(1) }));
        Assert.NotNull(AutoCompactor.PolicyOf(new ServerOptions { AutoCompactionMode = AutoCompactionMode.Revision, AutoCompactionRevisions = 5 }));
    }
}
