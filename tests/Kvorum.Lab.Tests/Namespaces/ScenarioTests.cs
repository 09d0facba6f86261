using Kvorum.Lab.Scenarios;
using Xunit.Abstractions;

namespace Kvorum.Lab.Tests.Namespaces;

/// <summary>The scenarios CI runs; each brings up its own lab (3 or 5 members) and takes it down.</summary>
[Collection(LabNamespacesGroup.Name)]
public class ScenarioTests(ITestOutputHelper output)
{
    [SkippableTheory]
    [InlineData("leader-isolation", 21)]
    [InlineData("minority-partition", 22)]
    [InlineData("no-majority", 23)]
    [InlineData("asymmetric-link", 24)]
    [InlineData("backup-restore", 25)]
    [InlineData("slow-or-dead", 26)]
    [InlineData("quorum-intersection", 27)]
    [InlineData("cap-choice", 28)]
    [InlineData("split-vote", 29)]
    public async Task Scenario_predictions_hold(string name, int subnet)
    {
        RootLab.Require();
        var options = new ScenarioOptions { Lab = RootLab.Options("kvts", subnet, 5) };
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
        RootLab.Discard(options.Lab.Directory);
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
