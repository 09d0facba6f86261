using Kvorum.Cli.Tests.Processes;
using Kvorum.Cli.View;
using Microsoft.Playwright;

namespace Kvorum.Cli.Tests.View;

/// <summary>
/// The page of <c>kvorum view</c> in a real headless browser over a real 3-member cluster: every member drawn and
/// exactly one leader, a put through the client box in every member's log and committed, and nothing loaded from
/// another origin. The picture goes to a temporary file, or to <c>view.png</c> in the directory named by
/// <c>KVORUM_SCREENSHOTS</c> (<c>KVORUM_SCREENSHOTS=$PWD/docs dotnet test …</c> refreshes <c>docs/view.png</c>): a test
/// run does not change the repository. The same checks, without replay, run in Firefox too (<see cref="FirefoxViewPageTests"/>).
/// It runs alone (<see cref="TimingSensitive"/>): it measures the replay's pace against the wall clock.
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class ViewPageTests(ViewedCluster shared) : IClassFixture<ViewedCluster>
{
    private ViewServer View => shared.View ?? throw new InvalidOperationException("not started");

    [SkippableFact]
    public async Task The_page_shows_every_member_one_leader_and_a_put_committed_in_every_log_loading_only_from_its_origin()
    {
        var chromium = Chromium.Require();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = chromium, Headless = true, Args = ["--no-sandbox"] });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 860 } });
        var view = View;
        var steps = PageSteps.Record(page);
        await page.GotoAsync(view.Url.ToString());

        var leader = await steps.OneLeaderAsync();
        Assert.Equal(leader, await page.GetAttributeAsync("#ring .member[data-role=follower]", "data-leader"));
        await steps.PutCommittedEverywhereAsync(leader, "seen", "in the view");
        await page.ClickAsync("#client-get");
        await page.WaitForFunctionAsync("() => document.getElementById('client-result').textContent.startsWith('in the view')", null, new() { Timeout = 20_000 });
        await steps.PauseAndBackToLiveAsync();

        // Replayed from the start at ½×, the same events take about twice as long as at 1×.
        await page.WaitForFunctionAsync("() => Number(document.getElementById('replay-label').dataset.span) > 4000", null, new() { Timeout = 20_000 });
        var full = await ReplayPaceAsync(page, "1");
        var half = await ReplayPaceAsync(page, "0.5");
        Assert.InRange(full, 0.7, 1.3);
        Assert.InRange(half / full, 0.35, 0.65);
        await page.ClickAsync("#replay-live");

        await page.ScreenshotAsync(new() { Path = Screenshots.PathOf("view.png") });

        steps.AssertOnlyOwnOriginAndNoErrors(view.Url);
    }

    // Replays from the start of the kept events at `speed` for about 1.5 s and returns how many ms of events were
    // replayed per ms of wall time.
    private static Task<double> ReplayPaceAsync(IPage page, string speed) =>
        page.EvaluateAsync<double>(
            """
            async speed => {
              const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
              const select = document.getElementById("replay-speed");
              select.value = speed;
              select.dispatchEvent(new Event("change"));
              const slider = document.getElementById("replay-time");
              slider.value = "0";
              slider.dispatchEvent(new Event("input"));
              if (document.getElementById("replay-pause").textContent === "Play") document.getElementById("replay-pause").click();
              await frame();
              const label = document.getElementById("replay-label");
              const from = Number(label.dataset.cursor), began = performance.now();
              await new Promise(r => setTimeout(r, 1500));
              await frame();
              return (Number(label.dataset.cursor) - from) / (performance.now() - began);
            }
            """, speed);
}
