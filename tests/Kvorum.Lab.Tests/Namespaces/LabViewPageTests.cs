using System.Diagnostics;
using Kvorum.Cli.Tests.View;
using Kvorum.Lab.Viewing;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Kvorum.Lab.Tests.Namespaces;

/// <summary>
/// The view that <c>kvorum lab up</c> starts, driven from its page in a real headless browser over a real 3-member
/// lab: killing the leader from the page shows a new leader of a higher term within seconds, and a partition from
/// the page shows the cut links and the minority's failed write; a narrated scenario started from the page shows its
/// narration and a checked prediction, and Stop ends it; another (slow-or-dead) runs from the page to its end with
/// every prediction held. Its pictures go to <c>lab-view-*.png</c> (<see cref="Screenshots"/>).
/// </summary>
[Collection(LabNamespacesGroup.Name)]
public sealed class LabViewPageTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task Killing_the_leader_and_a_partition_from_the_page_show_a_new_leader_then_the_cut_and_the_minoritys_failed_write()
    {
        RootLab.Require();
        var chromium = Chromium.Require();
        var lab = ViewedLab.Up(output, "kvtv", "10.78.53.0/24");
        try
        {
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = chromium, Headless = true, Args = ["--no-sandbox"] });
            var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
            var problems = new List<string>();
            page.PageError += (_, error) => { lock (problems) problems.Add(error); };
            await page.GotoAsync(lab.Url.ToString());
            var leader = await PageSteps.AgreedLeaderAsync(page);

            // Kill the leader from the page: a new leader of a higher term appears, the old one drawn killed.
            var term = int.Parse(await page.GetAttributeAsync("#ring .member[data-role=leader][data-process=running]", "data-term") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
            await page.SelectOptionAsync("#control-node", leader);
            var clock = Stopwatch.StartNew();
            await page.ClickAsync("#control-kill");
            await page.WaitForFunctionAsync(
                $"() => [...document.querySelectorAll('#ring .member')].some(m => m.dataset.role === 'leader' && m.dataset.process === 'running' && Number(m.dataset.term) > {term})",
                null, new() { Timeout = 20_000, PollingInterval = 50 });
            var seen = clock.Elapsed;
            await page.WaitForSelectorAsync($"#ring .member[data-node='{leader}'][data-process=down]", new() { Timeout = 10_000 });
            Assert.Equal($"n{leader}: killed", await page.TextContentAsync("#control-result"));
            output.WriteLine($"kill n{leader} (term {term}) to a new leader seen on the page: {seen.TotalMilliseconds:0} ms");
            Assert.True(seen < TimeSpan.FromSeconds(15), $"{seen}");
            await page.ScreenshotAsync(new() { Path = Screenshots.PathOf("lab-view-kill.png") });

            // Start it again, then cut the new leader off from the other two: the cuts drawn, its write fails.
            await page.ClickAsync("#control-start");
            var minority = await PageSteps.AgreedLeaderAsync(page);
            var others = string.Join(',', new[] { "1", "2", "3" }.Where(n => n != minority));
            await page.FillAsync("#control-groups", $"{minority} / {others}");
            await page.ClickAsync("#control-partition");
            await page.WaitForFunctionAsync(
                $"() => {{ const c = [...document.querySelectorAll('#ring .cut')]; return c.length === 2 && c.every(e => e.dataset.both === 'true' && (e.dataset.from === '{minority}' || e.dataset.to === '{minority}')); }}",
                null, new() { Timeout = 10_000 });
            Assert.Contains($"partition {minority} / {others}", await page.TextContentAsync("#faults") ?? "", StringComparison.Ordinal);
            // The cut-off member reports its fault state itself, in its event stream, and the page shows its report.
            await page.WaitForFunctionAsync(
                $"() => {{ const m = document.querySelector(\"#ring .member[data-node='{minority}']\"); return m && m.dataset.faultsFrom === 'member' && m.dataset.faults.includes('partition {minority} / {others}'); }}",
                null, new() { Timeout = 10_000 });
            var endpoint = await page.EvalOnSelectorAsync<string>($"#client-via option:nth-child({int.Parse(minority, System.Globalization.CultureInfo.InvariantCulture) + 1})", "o => o.value");
            await page.SelectOptionAsync("#client-via", endpoint);
            await page.FillAsync("#client-key", "minority");
            await page.ClickAsync("#client-put");
            await page.WaitForFunctionAsync("() => document.getElementById('client-result').classList.contains('error')", null, new() { Timeout = 30_000 });
            output.WriteLine($"minority write via n{minority}: {await page.TextContentAsync("#client-result")}");
            await page.ScreenshotAsync(new() { Path = Screenshots.PathOf("lab-view-partition.png") });

            // Heal from the page: the cuts go.
            await page.ClickAsync("#control-heal");
            await page.WaitForFunctionAsync("() => document.querySelectorAll('#ring .cut').length === 0", null, new() { Timeout = 10_000 });

            // One step back in time from live: paused on the next event.
            await page.ClickAsync("#replay-step");
            await page.WaitForFunctionAsync("() => document.getElementById('replay-label').textContent.startsWith('paused')", null, new() { Timeout = 10_000 });
            await page.ClickAsync("#replay-live");

            // A narrated scenario from the page: its narration and a checked prediction beside the picture, the
            // ring following its own 5 members; Stop ends it and takes its lab down, and the ring is the lab's again.
            await page.SelectOptionAsync("#scenario-name", "leader-isolation");
            await page.ClickAsync("#scenario-run");
            await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#narration-lines li')].some(l => l.textContent.includes('bringing up 5 members'))", null, new() { Timeout = 10_000 });
            await page.WaitForFunctionAsync("() => document.querySelectorAll('#ring .member').length === 5", null, new() { Timeout = 30_000 });
            await page.WaitForSelectorAsync("#narration-lines li[data-kind=held]", new() { Timeout = 60_000 });
            output.WriteLine($"first prediction checked on the page: {await page.TextContentAsync("#narration-lines li[data-kind=held]")}");
            // The picture and its narration, without the controls beside them (small enough for docs/), clipped from
            // the page at once: an element screenshot waits for the element to settle, and the scenario runs on.
            var box = await page.Locator("#picture").BoundingBoxAsync() ?? throw new InvalidOperationException("no #picture");
            await page.ScreenshotAsync(new() { Path = Screenshots.PathOf("lab-view-scenario.png"), FullPage = true, Clip = new() { X = box.X, Y = box.Y, Width = box.Width, Height = box.Height } });
            await page.ClickAsync("#scenario-stop");
            await page.WaitForFunctionAsync("() => ['passed', 'failed'].includes(document.getElementById('narration').dataset.state)", null, new() { Timeout = 30_000 });
            Assert.Null(global::Kvorum.Lab.State.LabStateStore.TryLoad(ScenarioProcess.DirectoryOf(lab.Directory)));
            await PageSteps.AgreedLeaderAsync(page);

            // Another scenario, run to its end from the page: slow-or-dead, with every prediction held.
            await page.SelectOptionAsync("#scenario-name", "slow-or-dead");
            await page.ClickAsync("#scenario-run");
            await page.WaitForFunctionAsync("() => document.getElementById('narration-title').textContent.startsWith('slow-or-dead')", null, new() { Timeout = 10_000 });
            await page.WaitForFunctionAsync("() => ['passed', 'failed'].includes(document.getElementById('narration').dataset.state)", null, new() { Timeout = 120_000 });
            var verdict = await page.TextContentAsync("#narration-title");
            output.WriteLine($"slow-or-dead from the page: {verdict}; {await page.Locator("#narration-lines li[data-kind=held]").CountAsync()} predictions held");
            Assert.Equal("slow-or-dead: every prediction held", verdict);
            Assert.Equal(0, await page.Locator("#narration-lines li[data-kind=failed]").CountAsync());
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
}
