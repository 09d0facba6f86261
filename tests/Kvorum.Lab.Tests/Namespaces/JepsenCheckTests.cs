using Kvorum.Lab.Checking;
using Kvorum.Lab.Jepsen;
using Xunit.Abstractions;

namespace Kvorum.Lab.Tests.Namespaces;

[Collection(LabNamespacesGroup.Name)]
public class JepsenCheckTests(ITestOutputHelper output)
{
    /// <summary>Seconds of faults; at least 60 in CI (<c>KVORUM_LAB_CHECK_SECONDS</c> to change).</summary>
    private static int Seconds => int.TryParse(Environment.GetEnvironmentVariable("KVORUM_LAB_CHECK_SECONDS"), out int s) ? s : 60;

    [SkippableFact]
    public async Task A_history_under_faults_is_linearizable_and_nothing_acknowledged_is_lost()
    {
        RootLab.Require();
        LabOptions lab = RootLab.Options("kvtj", 31, 5);
        var settings = new CheckSettings
        {
            Lab = lab,
            Duration = TimeSpan.FromSeconds(Seconds),
            Recovery = TimeSpan.FromSeconds(5),
            HistoryPath = Path.Combine(Path.GetTempPath(), $"kvorum-check-{Guid.NewGuid():N}.jsonl"),
        };
        var (passed, report) = await RunAsync(settings);

        Assert.True(passed, report.ToString());
        History history = HistoryJson.ReadFile(settings.HistoryPath);
        Assert.True(history.Count > 1000, $"only {history.Count} operations");
        Assert.Contains(history, o => o.Input.Kind == OperationKind.Cas && o.Outcome == OperationOutcome.Ok && o.Output!.Succeeded);
        Assert.Contains(history, o => o.Outcome == OperationOutcome.Indeterminate);
        Assert.Matches(@"faults: [1-9]\d* \(", report.ToString());
        Assert.Contains("replicas: all 5 members hold the same history at revision", report.ToString(), StringComparison.Ordinal);
        Assert.Contains("verdict: PASS", report.ToString(), StringComparison.Ordinal);
        File.Delete(settings.HistoryPath);
        RootLab.Discard(settings.Lab.Directory);
    }

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
