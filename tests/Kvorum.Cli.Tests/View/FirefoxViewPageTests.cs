using Kvorum.Cli.View;
using Microsoft.Playwright;

namespace Kvorum.Cli.Tests.View;

/// <summary>
/// The checks of <see cref="ViewPageTests"/> that time nothing (every member drawn, one leader, a put committed in
/// every log, pause and back to live, nothing from another origin) in Firefox, over a cluster of its own. It kills,
/// pauses and times nothing, so it runs beside the other tests, not in the serial tail.
/// </summary>
public sealed class FirefoxViewPageTests(ViewedCluster shared) : IClassFixture<ViewedCluster>
{
    private ViewServer View => shared.View ?? throw new InvalidOperationException("not started");

    [SkippableFact]
    public async Task In_Firefox_the_page_shows_every_member_one_leader_and_a_put_committed_in_every_log_loading_only_from_its_origin()
    {
        var firefox = Firefox.Require();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Firefox.LaunchAsync(new() { Channel = Firefox.BidiChannel, ExecutablePath = firefox, Headless = true });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 860 } });
        var steps = PageSteps.Record(page);
        await page.GotoAsync(View.Url.ToString());

        var leader = await steps.OneLeaderAsync();
        await steps.PutCommittedEverywhereAsync(leader, "seen-in-firefox", "in the view");
        await steps.PauseAndBackToLiveAsync();
        steps.AssertOnlyOwnOriginAndNoErrors(View.Url);
    }
}
