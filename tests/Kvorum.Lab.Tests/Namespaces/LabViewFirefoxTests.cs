using System.Globalization;
using Kvorum.Cli.Tests.View;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Kvorum.Lab.Tests.Namespaces;

/// <summary>
/// The lab's page and its controls in Firefox ESR (over WebDriver BiDi, as <see cref="Firefox"/> says), over a real
/// 3-member lab: isolating the leader from the page draws its links cut and shows a new leader of a higher term among
/// the others, healing from the page removes the cuts; a one-way cut draws one cut from its sender; a paused follower
/// is drawn paused and runs again on Resume; and the page loads nothing from another origin and reports no
/// error (<see cref="PageSteps"/>, the checks the plain page passes in both browsers).
/// </summary>
[Collection(LabNamespacesGroup.Name)]
public sealed class LabViewFirefoxTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task In_Firefox_isolating_the_leader_from_the_page_shows_its_links_cut_and_a_new_leader_and_heal_removes_the_cuts()
    {
        RootLab.Require();
        var firefox = Firefox.Require();
        var lab = ViewedLab.Up(output, "kvtz", "10.78.57.0/24");
        try
        {
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Firefox.LaunchAsync(new() { Channel = Firefox.BidiChannel, ExecutablePath = firefox, Headless = true });
            var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
            var steps = PageSteps.Record(page);
            await page.GotoAsync(lab.Url.ToString());
            var leader = await PageSteps.AgreedLeaderAsync(page);
            var term = int.Parse(await page.GetAttributeAsync("#ring .member[data-role=leader][data-process=running]", "data-term") ?? "0", CultureInfo.InvariantCulture);

            await page.SelectOptionAsync("#control-node", leader);
            await page.ClickAsync("#control-isolate");
            await page.WaitForFunctionAsync(
                $"() => {{ const c = [...document.querySelectorAll('#ring .cut')]; return c.length === 2 && c.every(e => e.dataset.both === 'true' && (e.dataset.from === '{leader}' || e.dataset.to === '{leader}')); }}",
                null, new() { Timeout = 10_000 });
            Assert.Contains($"isolate {leader}", await page.TextContentAsync("#faults") ?? "", StringComparison.Ordinal);
            await page.WaitForFunctionAsync(
                $"() => [...document.querySelectorAll('#ring .member')].some(m => m.dataset.role === 'leader' && m.dataset.node !== '{leader}' && Number(m.dataset.term) > {term})",
                null, new() { Timeout = 20_000 });
            output.WriteLine($"isolated n{leader} (leader at term {term}); the page shows n{await page.GetAttributeAsync($"#ring .member[data-role=leader]:not([data-node='{leader}'])", "data-node")} leading");

            await page.ClickAsync("#control-heal");
            await page.WaitForFunctionAsync("() => document.querySelectorAll('#ring .cut').length === 0", null, new() { Timeout = 10_000 });
            var now = await PageSteps.AgreedLeaderAsync(page);

            // A one-way cut between the two followers: one cut drawn, from the chosen sender only.
            string[] followers = [.. new[] { "1", "2", "3" }.Where(n => n != now)];
            await page.SelectOptionAsync("#control-from", followers[0]);
            await page.SelectOptionAsync("#control-to", followers[1]);
            await page.CheckAsync("#control-one-way");
            await page.ClickAsync("#control-cut");
            await page.WaitForFunctionAsync(
                $"() => {{ const c = [...document.querySelectorAll('#ring .cut')]; return c.length === 1 && c[0].dataset.both === 'false' && c[0].dataset.from === '{followers[0]}' && c[0].dataset.to === '{followers[1]}'; }}",
                null, new() { Timeout = 10_000 });
            await page.ClickAsync("#control-heal");
            await page.WaitForFunctionAsync("() => document.querySelectorAll('#ring .cut').length === 0", null, new() { Timeout = 10_000 });

            // Pause a follower and resume it: drawn paused, then running and following the leader again.
            await page.SelectOptionAsync("#control-node", followers[0]);
            await page.ClickAsync("#control-pause");
            await page.WaitForSelectorAsync($"#ring .member[data-node='{followers[0]}'][data-process=paused]", new() { Timeout = 10_000 });
            await page.ClickAsync("#control-resume");
            await page.WaitForSelectorAsync($"#ring .member[data-node='{followers[0]}'][data-process=running]", new() { Timeout = 10_000 });
            await PageSteps.AgreedLeaderAsync(page);
            await steps.PauseAndBackToLiveAsync();
            steps.AssertOnlyOwnOriginAndNoErrors(lab.Url);
        }
        finally
        {
            lab.Down();
        }

        RootLab.Discard(lab.Directory);
    }
}
