using System.Diagnostics;
using System.Globalization;
using System.Net;
using Kvorum.Cli.Client;
using Kvorum.Cli.Cluster;
using Kvorum.Cli.Tests.Processes;
using Kvorum.Cli.View;
using Kvorum.Tests.Shared;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Kvorum.Cli.Tests.View;

/// <summary>
/// The page of the view that <c>kvorum cluster up</c> starts, with its controls over the members that process owns
/// (<see cref="ClusterViewControls"/>), in a real headless browser over 3 real members: killing the leader from the
/// page shows a new leader of a higher term, and starting it again from the page brings it back as a follower of
/// that leader. Only kill and start are offered; the lab's network faults are not. The picture of the killed member
/// goes to <c>cluster-view-kill.png</c> (<see cref="Screenshots"/>).
/// </summary>
[Collection(TimingSensitive.Name)]
public sealed class ClusterViewPageTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task Killing_the_leader_from_the_page_shows_a_new_leader_of_a_higher_term_and_starting_it_again_it_rejoins()
    {
        var chromium = Chromium.Require();
        var root = Path.Combine(Path.GetTempPath(), "kvorum-clusterview-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        LocalMember[] members = [.. Enumerable.Range(1, 3).Select(k => new LocalMember($"infra{k}", FreePorts.Next(), FreePorts.Next(), Path.Combine(root, $"infra{k}"), Path.Combine(root, $"infra{k}.log")))];
        var started = ClusterMembers.Start(members, m => ClusterLayout.Serve(m, members).ToArgs(), ["dotnet", Path.Combine(AppContext.BaseDirectory, "kvorum.dll")]);
        try
        {
            var settings = new ClientSettings { Endpoints = [.. members.Select(m => m.ClientUrl)] };
            await using var view = new ViewServer(settings, new IPEndPoint(IPAddress.Loopback, 0), new ClusterViewControls(started, m => m.ClientUrl));
            await view.StartAsync();

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = chromium, Headless = true, Args = ["--no-sandbox"] });
            var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 860 } });
            var problems = new List<string>();
            page.PageError += (_, error) => { lock (problems) problems.Add(error); };
            await page.GotoAsync(view.Url.ToString());
            var leader = await PageSteps.AgreedLeaderAsync(page);
            Assert.Equal("Cluster", await page.TextContentAsync("#controls-title"));
            Assert.False(await page.IsVisibleAsync("#control-partition"));
            Assert.True(await page.IsVisibleAsync("#control-kill"));

            var term = int.Parse(await page.GetAttributeAsync("#ring .member[data-role=leader][data-process=running]", "data-term") ?? "0", CultureInfo.InvariantCulture);
            await page.SelectOptionAsync("#control-node", leader);
            var clock = Stopwatch.StartNew();
            await page.ClickAsync("#control-kill");
            await page.WaitForFunctionAsync(
                $"() => [...document.querySelectorAll('#ring .member')].some(m => m.dataset.role === 'leader' && m.dataset.process === 'running' && Number(m.dataset.term) > {term})",
                null, new() { Timeout = 20_000, PollingInterval = 50 });
            output.WriteLine($"kill infra{leader} (term {term}) to a new leader seen on the page: {clock.ElapsedMilliseconds} ms");
            await page.WaitForSelectorAsync($"#ring .member[data-node='{leader}'][data-process=down]", new() { Timeout = 10_000 });
            Assert.Equal($"infra{leader}: killed", await page.TextContentAsync("#control-result"));
            Assert.NotNull(started.Processes[int.Parse(leader, CultureInfo.InvariantCulture) - 1].ExitCode);
            await page.ScreenshotAsync(new() { Path = Screenshots.PathOf("cluster-view-kill.png") });

            // Started again from the page: it rejoins, following the leader as the others do.
            await page.ClickAsync("#control-start");
            await page.WaitForFunctionAsync("() => document.getElementById('control-result').textContent.includes('started')", null, new() { Timeout = 10_000 });
            await PageSteps.AgreedLeaderAsync(page);
            Assert.Equal("running", await page.GetAttributeAsync($"#ring .member[data-node='{leader}']", "data-process"));
            lock (problems)
                Assert.Empty(problems);
        }
        finally
        {
            // The members stop at once: each may take its grace period (a leader hands over first).
            await Task.WhenAll(started.Processes.Select(process => process.StopAsync(TimeSpan.FromSeconds(5))));
            foreach (var process in started.Processes)
                process.Dispose();
        }

        Directory.Delete(root, recursive: true);
    }
}
