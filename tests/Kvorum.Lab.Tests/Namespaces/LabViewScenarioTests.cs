using System.Diagnostics;
using Kvorum.Cli.Tests.View;
using Kvorum.Lab.Scenarios;
using Kvorum.Lab.State;
using Kvorum.Lab.Viewing;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Kvorum.Lab.Tests.Namespaces;

/// <summary>
/// Every scenario of the catalogue, started from the lab's page in a real headless browser: the menu offers exactly
/// the catalogue; each entry's Run starts that scenario (its own first line, name and summary, then its own lab
/// coming up beside the lab), and Stop ends it and takes its lab down, leaving no namespace, link or member process
/// behind; the lab the page was opened on still has its leader at the end. Each is stopped while it brings its lab
/// up, so the loop stays short; running one to its end from the page is <see cref="LabViewPageTests"/>'s.
/// </summary>
[Collection(LabNamespacesGroup.Name)]
public sealed class LabViewScenarioTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task Every_scenario_starts_from_the_page_with_its_own_narration_and_stops_from_it_leaving_nothing_behind()
    {
        RootLab.Require();
        var chromium = Chromium.Require();
        var lab = ViewedLab.Up(output, "kvtx", "10.78.55.0/24");
        try
        {
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = chromium, Headless = true, Args = ["--no-sandbox"] });
            var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
            var problems = new List<string>();
            page.PageError += (_, error) => { lock (problems) problems.Add(error); };
            await page.GotoAsync(lab.Url.ToString());
            await PageSteps.AgreedLeaderAsync(page);

            var offered = await page.EvalOnSelectorAllAsync<string[]>("#scenario-name option", "options => options.map(o => o.value)");
            Assert.Equal(ScenarioCatalog.All.Select(s => s.Name), offered);
            var place = ScenarioProcess.Place(lab.Directory, lab.Prefix, lab.Subnet);
            var before = Traces(place.Prefix, place.Directory);
            Assert.Empty(before);

            var whole = Stopwatch.StartNew();
            foreach (var scenario in ScenarioCatalog.All)
            {
                var clock = Stopwatch.StartNew();
                await page.SelectOptionAsync("#scenario-name", scenario.Name);
                await page.ClickAsync("#scenario-run");

                // This scenario's own first line, then its own code bringing up its lab: a Run that started another
                // scenario, or none, fails here.
                await WaitOnPageAsync(page, scenario.Name,
                    """
                    ([name, first]) => {
                      const lines = [...document.querySelectorAll('#narration-lines li')].map(l => l.textContent);
                      return document.getElementById('narration-title').textContent === name + ': running'
                        && lines[0] === first && lines.some(l => /^\[ *[0-9.]+s\] bringing up [0-9]+ members/.test(l));
                    }
                    """,
                    new[] { scenario.Name, $"=== scenario {scenario.Name}: {scenario.Summary}" });
                Assert.Equal($"scenario {scenario.Name} started", await page.TextContentAsync("#control-result"));
                await WaitAsync(() => LabStateStore.TryLoad(place.Directory) is not null, $"{scenario.Name}'s lab in {place.Directory}");
                var started = clock.Elapsed;

                await page.ClickAsync("#scenario-stop");
                await page.WaitForFunctionAsync(
                    "name => document.getElementById('control-result').textContent === `scenario ${name} stopped` && document.getElementById('narration').dataset.state !== 'running'",
                    scenario.Name, new() { Timeout = 30_000 });
                Assert.StartsWith($"{scenario.Name}: ", await page.TextContentAsync("#narration-title"), StringComparison.Ordinal);
                Assert.Null(LabStateStore.TryLoad(place.Directory));
                Assert.Empty(Traces(place.Prefix, place.Directory));
                output.WriteLine($"{scenario.Name}: started, its lab coming up, in {started.TotalSeconds:0.0} s; stopped and gone after {clock.Elapsed.TotalSeconds:0.0} s");
            }

            output.WriteLine($"all {ScenarioCatalog.All.Count} scenarios started and stopped from the page in {whole.Elapsed.TotalSeconds:0} s");
            await PageSteps.AgreedLeaderAsync(page);
            lock (problems)
                Assert.Empty(problems);
        }
        finally
        {
            lab.Down();
        }

        RootLab.Discard(lab.Directory);
    }

    // What a scenario's lab leaves on the host while up: its namespaces and links (named PREFIX-…), and member
    // processes, whose command lines name their data directories inside its directory.
    private static List<string> Traces(string prefix, string directory)
    {
        var left = RootLab.Run("ip", "netns", "list").Output.Split('\n')
            .Concat(RootLab.Run("ip", "-o", "link", "show").Output.Split('\n').Select(l => l.Split(':') is [_, var name, ..] ? name.Trim() : ""))
            .Where(name => name.StartsWith(prefix + "-", StringComparison.Ordinal))
            .ToList();
        foreach (var proc in Directory.EnumerateDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)))
        {
            try
            {
                if (File.ReadAllText(Path.Combine(proc, "cmdline")).Contains(directory + "/", StringComparison.Ordinal))
                    left.Add($"process {Path.GetFileName(proc)}");
            }
            catch (IOException)
            {
                // It ended while being read.
            }
        }

        return left;
    }

    // Waits for `condition` on the page; when it does not come, says what the narration panel showed instead.
    private static async Task WaitOnPageAsync(IPage page, string name, string condition, object argument)
    {
        try
        {
            await page.WaitForFunctionAsync(condition, argument, new() { Timeout = 30_000 });
        }
        catch (TimeoutException)
        {
            var title = await page.TextContentAsync("#narration-title");
            var lines = await page.EvalOnSelectorAllAsync<string[]>("#narration-lines li", "items => items.slice(0, 3).map(i => i.textContent)");
            Assert.Fail($"Run for {name}: after 30 s the page shows \"{title}\", beginning \"{string.Join(" | ", lines)}\"");
        }
    }

    private static async Task WaitAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"no {what} after 20 s");
            await Task.Delay(50);
        }
    }
}
