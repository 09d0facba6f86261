using Kvorum.Lab.Checking;
using Kvorum.Lab.Jepsen;
using Xunit.Abstractions;

namespace Kvorum.Lab.Tests.Namespaces;

[Collection(LabNamespacesGroup.Name)]
public class JepsenCheckTests(ITestOutputHelper output)
{
    /// <summary>Seconds of faults; at least 60 in CI (<c>KVORUM_LAB_CHECK_SECONDS</c> to change).</summary>
    private static int Seconds => int.TryParse(Environment.GetEnvironmentVariable("KVORUM_LAB_CHECK_SECONDS"), out var s) ? s : 60;

    [SkippableFact]
    public async Task A_history_under_faults_is_linearizable_and_nothing_acknowledged_is_lost()
    {
        RootLab.Require();
        var lab = RootLab.Options("kvtj", 31, 5);
        var settings = new CheckSettings
        {
            Lab = lab,
            Duration = TimeSpan.FromSeconds(Seconds),
            Recovery = TimeSpan.FromSeconds(5),
            HistoryPath = Path.Combine(Path.GetTempPath(), $"kvorum-check-{Guid.NewGuid():N}.jsonl"),
        };
        var (passed, report) = await RunAsync(settings);

        Assert.True(passed, report.ToString());
        var history = HistoryJson.ReadFile(settings.HistoryPath);
        Assert.True(history.Count > 1000, $"only {history.Count} operations");
        Assert.Contains(history, o => o.Input.Kind == OperationKind.Cas && o.Outcome == OperationOutcome.Ok && o.Output!.Succeeded);
        Assert.Contains(history, o => o.Outcome == OperationOutcome.Indeterminate);
        Assert.Matches(@"faults: [1-9]\d* \(", report.ToString());
        Assert.Contains("replicas: all 5 members hold the same history at revision", report.ToString(), StringComparison.Ordinal);
        Assert.Contains("verdict: PASS", report.ToString(), StringComparison.Ordinal);
        File.Delete(settings.HistoryPath);
        RootLab.Discard(settings.Lab.Directory);
    }

    /// <summary>
    /// One member, killed with SIGKILL and restarted again and again while clients read and write through it: each
    /// restart comes back from what its disk holds, and must neither forget an acknowledged write nor answer a read
    /// with a state older than one already acknowledged (issue 19, finding 1: a restarted single voter served reads
    /// at its stale, lazily persisted commit index).
    /// </summary>
    [SkippableFact]
    public async Task One_member_killed_again_and_again_answers_linearizably()
    {
        RootLab.Require();
        var settings = new CheckSettings
        {
            // A short election timeout: the member elects itself soon after each restart, so that clients meet it
            // between the kills and read right after it came back.
            Lab = RootLab.Options("kvt1", 43, 1) with { Serve = new() { ElectionTimeoutMs = 300, HeartbeatIntervalMs = 50 } },
            Faults = ["kill"],
            Duration = TimeSpan.FromSeconds(Math.Min(Seconds, 20)),
            Recovery = TimeSpan.FromSeconds(3),
            Seed = 1,
            HistoryPath = Path.Combine(Path.GetTempPath(), $"kvorum-one-{Guid.NewGuid():N}.jsonl"),
        };
        var (passed, report) = await RunAsync(settings);

        Assert.True(passed, report.ToString());
        var history = HistoryJson.ReadFile(settings.HistoryPath);
        Assert.Contains(history, o => o.Input.Kind == OperationKind.Get && o.Outcome == OperationOutcome.Ok && o.Output!.Value is not null);
        Assert.Contains(history, o => o.Outcome == OperationOutcome.Indeterminate);
        Assert.Matches(@"faults: [1-9]\d* \(kill ×", report.ToString());
        // Between the kills too, not only after the final restart: the member answered after coming back.
        Assert.DoesNotContain("availability: 0.0% of one-second windows had an acknowledged write during the faults", report.ToString(), StringComparison.Ordinal);
        Assert.Contains("replicas: all 1 members hold the same history at revision", report.ToString(), StringComparison.Ordinal);
        Assert.Contains("verdict: PASS", report.ToString(), StringComparison.Ordinal);
        File.Delete(settings.HistoryPath);
        RootLab.Discard(settings.Lab.Directory);
    }

    /// <summary>
    /// Three voters and a learner (added with <c>member add --learner</c> once they have a leader, then started), all
    /// under every kind of fault, the learner too: the clients use the voters only, and at the end the learner must
    /// hold the same history as they do (HashKV at the leader's revision), having caught up through kills, pauses and
    /// partitions, by entries or by a snapshot.
    /// </summary>
    [SkippableFact]
    public async Task A_learner_hit_by_the_nemesis_ends_with_the_voters_history()
    {
        RootLab.Require();
        var settings = new CheckSettings
        {
            Lab = RootLab.Options("kvtl", 44, 3) with { Learners = 1 },
            Duration = TimeSpan.FromSeconds(Math.Min(Seconds, 20)),
            Recovery = TimeSpan.FromSeconds(3),
            Seed = LearnerSeed,
            HistoryPath = Path.Combine(Path.GetTempPath(), $"kvorum-learner-{Guid.NewGuid():N}.jsonl"),
        };
        var (passed, report) = await RunAsync(settings);

        Assert.True(passed, report.ToString());
        Assert.Contains("=== kvorum lab check: 3 members and 1 learner", report.ToString(), StringComparison.Ordinal);
        // The seed's schedule kills the learner (n4) first thing: the check is about a learner that was down.
        Assert.Contains("nemesis: kill n4", report.ToString(), StringComparison.Ordinal);
        Assert.Contains("replicas: all 4 members hold the same history at revision", report.ToString(), StringComparison.Ordinal);
        Assert.Contains("verdict: PASS", report.ToString(), StringComparison.Ordinal);
        File.Delete(settings.HistoryPath);
        RootLab.Discard(settings.Lab.Directory);
    }

    /// <summary>
    /// <c>--workload watch</c>: watchers of the whole key space, started over the first half of the run (half replay
    /// from revision 1, half start "now", some with require-leader), resume on another member when the nemesis breaks
    /// their stream. Each must end with a gap-free, duplicate-free, in-order slice of the one history, which is the
    /// history the clients' linearizable reads and writes saw.
    /// </summary>
    [SkippableFact]
    public async Task Watchers_under_faults_see_gap_free_slices_of_the_clients_history()
    {
        RootLab.Require();
        var settings = new CheckSettings
        {
            Lab = RootLab.Options("kvtw", 45, 5),
            Duration = TimeSpan.FromSeconds(Math.Min(Seconds, 30)),
            Recovery = TimeSpan.FromSeconds(3),
            Seed = 42,
            Watchers = 6,
            HistoryPath = Path.Combine(Path.GetTempPath(), $"kvorum-watch-{Guid.NewGuid():N}.jsonl"),
        };
        var (passed, report) = await RunAsync(settings);

        Assert.True(passed, report.ToString());
        Assert.Matches(@"watchers: 6 watchers received [1-9]\d* events", report.ToString());
        Assert.Contains("every watcher saw a gap-free, duplicate-free, in-order slice of the one history", report.ToString(), StringComparison.Ordinal);
        Assert.Contains("verdict: PASS", report.ToString(), StringComparison.Ordinal);
        File.Delete(settings.HistoryPath);
        RootLab.Discard(settings.Lab.Directory);
    }

    // A seed whose schedule kills the learner first (and again later).
    private const int LearnerSeed = 21;

    private async Task<(bool Passed, StringWriter Report)> RunAsync(CheckSettings settings)
    {
        var report = new StringWriter();
        try
        {
            return (await JepsenCheck.RunAsync(settings, report, CancellationToken.None), report);
        }
        finally
        {
            output.WriteLine(report.ToString());
        }
    }

    [SkippableFact]
    public async Task The_check_catches_the_stale_reads_of_a_client_that_reads_locally()
    {
        RootLab.Require();
        var settings = new CheckSettings
        {
            Lab = RootLab.Options("kvtk", 32, 5),
            Duration = TimeSpan.FromSeconds(20),
            Recovery = TimeSpan.FromSeconds(3),
            SerializableReads = true,
            HistoryPath = Path.Combine(Path.GetTempPath(), $"kvorum-stale-{Guid.NewGuid():N}.jsonl"),
        };
        var (passed, report) = await RunAsync(settings);

        Assert.False(passed, "serializable reads from lagging or partitioned members must show up as stale reads");
        Assert.Contains("NOT LINEARIZABLE", report.ToString(), StringComparison.Ordinal);
        Assert.Contains("then this operation cannot take effect:", report.ToString(), StringComparison.Ordinal);
        Assert.Contains("verdict: FAIL", report.ToString(), StringComparison.Ordinal);
        File.Delete(settings.HistoryPath);
        RootLab.Discard(settings.Lab.Directory);
    }
}
