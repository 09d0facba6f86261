using Kvorum.Lab.Scenarios;
using Xunit.Abstractions;

namespace Kvorum.Lab.Tests.Namespaces;

/// <summary>
/// The <c>lock-under-partition</c> scenario on its own 3-member lab: every prediction holds, and the story it tells
/// is all there — the lock breaks without a fence and holds with one.
/// </summary>
[Collection(LabNamespacesGroup.Name)]
public class LockUnderPartitionTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task A_lock_alone_lets_two_holders_write_and_the_fencing_token_refuses_the_stale_one()
    {
        RootLab.Require();
        var options = new ScenarioOptions { Lab = RootLab.Options("kvtf", 46, 3) };
        var narration = new StringWriter();
        bool passed;
        try
        {
            passed = await ScenarioRunner.RunAsync(ScenarioCatalog.Find("lock-under-partition"), options, narration, CancellationToken.None);
        }
        finally
        {
            output.WriteLine(narration.ToString());
        }

        var text = narration.ToString();
        Assert.True(passed, text);
        string[] predictions =
        [
            "with no partition the lock excludes",
            "A's lease expires on the majority no earlier than its TTL",
            "B's token is larger than A's",
            "both believe they hold the lock",
            "without a fence the lock does not exclude",
            "A's fenced write is refused",
            "B's fenced write is accepted",
            "a store outside etcd that refuses tokens below the highest it has seen refuses A's late write",
            "A learns only after the heal",
        ];
        foreach (var prediction in predictions)
            Assert.Contains(text.Split('\n'), line => line.Contains("HELD", StringComparison.Ordinal) && line.Contains(prediction, StringComparison.Ordinal));
        Assert.Contains("=== lock-under-partition: PASSED — 10 of 10 predictions held", text, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(options.Lab.Directory, "state.json")), "the scenario takes its lab down");
        RootLab.Discard(options.Lab.Directory);
    }
}
