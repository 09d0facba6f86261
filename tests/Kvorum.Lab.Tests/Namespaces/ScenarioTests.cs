using Kvorum.Lab.Scenarios;
using Xunit.Abstractions;

namespace Kvorum.Lab.Tests.Namespaces;

/// <summary>
/// The scenarios CI runs; each brings up its own lab (3 or 5 members) and takes it down. <c>slow-or-dead</c> is not
/// among them: <see cref="LabViewPageTests"/> runs it to its end from the lab's page and asserts every prediction held,
/// so running it here too would only repeat it.
/// </summary>
[Collection(LabNamespacesGroup.Name)]
public class ScenarioTests(ITestOutputHelper output)
{
    [SkippableTheory]
    [InlineData("leader-isolation", 21)]
    [InlineData("minority-partition", 22)]
    [InlineData("no-majority", 23)]
    [InlineData("asymmetric-link", 24)]
    [InlineData("backup-restore", 25)]
    [InlineData("quorum-intersection", 27)]
    [InlineData("cap-choice", 28)]
    [InlineData("split-vote", 29)]
    public async Task Scenario_predictions_hold(string name, int subnet)
    {
        RootLab.Require();
        var options = new ScenarioOptions { Lab = RootLab.Options("kvts", subnet, 5) };
        await RunPassingAsync(name, options);
        RootLab.Discard(options.Lab.Directory);
    }

    [SkippableFact]
    public async Task Backup_restore_holds_over_mutual_TLS_and_the_restored_members_serve_only_https()
    {
        RootLab.Require();
        // As `kvorum lab scenario backup-restore --tls`: the restored members must be named by their https peer URLs.
        var options = new ScenarioOptions { Lab = RootLab.Options("kvtb", 48, 3) with { Tls = true } };
        await RunPassingAsync("backup-restore", options);
        var log = File.ReadAllText(Path.Combine(options.Lab.Directory, "n1.log"));
        Assert.Contains("serving clients on https://", log, StringComparison.Ordinal);
        Assert.DoesNotContain("serving clients on http://", log, StringComparison.Ordinal);
        RootLab.Discard(options.Lab.Directory);
    }

    private async Task RunPassingAsync(string name, ScenarioOptions options)
    {
        var narration = new StringWriter();
        bool passed;
        try
        {
            passed = await ScenarioRunner.RunAsync(ScenarioCatalog.Find(name), options, narration, CancellationToken.None);
        }
        finally
        {
            output.WriteLine(narration.ToString());
        }

        Assert.True(passed, narration.ToString());
        Assert.Contains($"=== {name}: PASSED", narration.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(options.Lab.Directory, "state.json")), "the scenario takes its lab down");
    }

    [Fact]
    public void Every_scenario_the_issue_names_is_in_the_catalog()
    {
        string[] names = [.. ScenarioCatalog.All.Select(s => s.Name)];
        Assert.Equal(
            ["leader-isolation", "minority-partition", "no-majority", "asymmetric-link", "flapping", "rolling-restart", "kill-leader-loop", "election-timing", "backup-restore", "lock-under-partition", "slow-or-dead", "quorum-intersection", "cap-choice", "split-vote"],
            names);
        Assert.Contains("no scenario 'nope'", Assert.Throws<LabException>(() => ScenarioCatalog.Find("nope")).Message, StringComparison.Ordinal);
    }
}
