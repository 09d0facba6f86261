using Microsoft.Playwright;

namespace Kvorum.Cli.Tests.View;

/// <summary>
/// What the page tests do and check the same way in every browser: the requests the page makes and the errors it
/// reports (<see cref="Record"/>, <see cref="AssertOnlyOwnOriginAndNoErrors"/>), one leader on the ring, a put from
/// the client box committed in every log, and pause and back to live.
/// </summary>
internal sealed class PageSteps
{
    private readonly IPage _page;
    private readonly List<string> _requested = [];
    private readonly List<string> _problems = [];

    private PageSteps(IPage page) => _page = page;

    /// <summary>Starts recording what <paramref name="page"/> requests and the errors it reports.</summary>
    public static PageSteps Record(IPage page)
    {
        var steps = new PageSteps(page);
        page.Request += (_, request) => { lock (steps._requested) steps._requested.Add(request.Url); };
        page.Console += (_, message) => { if (message.Type == "error") lock (steps._problems) steps._problems.Add(message.Text); };
        page.PageError += (_, error) => { lock (steps._problems) steps._problems.Add(error); };
        return steps;
    }

    /// <summary>Waits for every member on the ring, exactly one leader, and every member following it; returns the leader's id.</summary>
    public async Task<string?> OneLeaderAsync()
    {
        await _page.WaitForFunctionAsync(
            "() => { const m = [...document.querySelectorAll('#ring .member')]; return m.length === 3 && m.filter(e => e.dataset.role === 'leader').length === 1 && new Set(m.map(e => e.dataset.leader)).size === 1; }",
            null, new() { Timeout = 20_000 });
        return await _page.GetAttributeAsync("#ring .member[data-role=leader]", "data-id");
    }

    /// <summary>
    /// Waits until <paramref name="page"/> shows 3 running members that agree on one leader (killed or paused ones
    /// left out), and returns the leader's node number.
    /// </summary>
    public static async Task<string> AgreedLeaderAsync(IPage page)
    {
        await page.WaitForFunctionAsync(
            "() => { const m = [...document.querySelectorAll('#ring .member')].filter(e => e.dataset.process === 'running'); " +
            "const leaders = m.filter(e => e.dataset.role === 'leader'); " +
            "return m.length === 3 && leaders.length === 1 && m.every(e => e.dataset.leader === leaders[0].dataset.id); }",
            null, new() { Timeout = 30_000 });
        return await page.GetAttributeAsync("#ring .member[data-role=leader][data-process=running]", "data-node") ?? "";
    }

    /// <summary>Puts <paramref name="key"/> through the client box and waits until its entry is committed in every member's log.</summary>
    public async Task PutCommittedEverywhereAsync(string? leader, string key, string value)
    {
        await _page.FillAsync("#client-key", key);
        await _page.FillAsync("#client-value", value);
        await _page.ClickAsync("#client-put");
        await _page.WaitForFunctionAsync("() => document.getElementById('client-result').textContent.startsWith('OK')", null, new() { Timeout = 20_000 });
        var index = await _page.EvalOnSelectorAsync<int>($"#logs .log-row[data-member='{leader}']", "e => Number(e.dataset.last)");
        await _page.WaitForFunctionAsync(
            $"() => {{ const rows = [...document.querySelectorAll('#logs .log-row')]; return rows.length === 3 && rows.every(r => r.querySelector('.cell[data-index=\"{index}\"][data-committed=\"true\"]')); }}",
            null, new() { Timeout = 20_000 });
    }

    /// <summary>Pauses the picture and takes it back to live.</summary>
    public async Task PauseAndBackToLiveAsync()
    {
        await _page.ClickAsync("#replay-pause");
        await _page.WaitForFunctionAsync("() => document.getElementById('replay-label').textContent.startsWith('paused')", null, new() { Timeout = 10_000 });
        await _page.ClickAsync("#replay-live");
        await _page.WaitForFunctionAsync("() => document.getElementById('replay-label').textContent === 'live'", null, new() { Timeout = 10_000 });
    }

    /// <summary>Every request went to <paramref name="url"/>'s origin, and the page reported no error.</summary>
    public void AssertOnlyOwnOriginAndNoErrors(Uri url)
    {
        var origin = url.GetLeftPart(UriPartial.Authority);
        lock (_requested)
        {
            Assert.NotEmpty(_requested);
            Assert.All(_requested, r => Assert.StartsWith(origin + "/", r, StringComparison.Ordinal));
        }
        lock (_problems)
            Assert.Empty(_problems);
    }
}
