using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Kvorum.Cli.Client;
using Kvorum.Cli.Tests.Processes;
using Kvorum.Cli.View;

namespace Kvorum.Cli.Tests.View;

/// <summary>
/// <c>kvorum view</c>'s server over a real 3-member cluster: the page and its modules come from this origin only under
/// a strict Content-Security-Policy, <c>/events</c> relays every member's stream, and the client box writes and reads.
/// </summary>
public sealed partial class ViewServerTests : IAsyncLifetime
{
    private readonly ProcessCluster _cluster = new(3);
    private ViewServer _view = null!;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public async Task InitializeAsync()
    {
        await _cluster.StartAllWithLeaderAsync(TimeSpan.FromSeconds(30));
        var settings = new ClientSettings { Endpoints = [.. _cluster.Members.Keys.Select(n => new Uri(_cluster.ClientUrl(n)))] };
        _view = new ViewServer(settings, new IPEndPoint(IPAddress.Loopback, 0));
        await _view.StartAsync();
        _http.BaseAddress = _view.Url;
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        try
        {
            if (_view is not null)
                await _view.DisposeAsync();
        }
        finally
        {
            await _cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_page_and_every_file_it_names_come_from_this_origin_under_a_strict_policy()
    {
        using var page = await _http.GetAsync(new Uri("/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var policy = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe", policy, StringComparison.Ordinal);
        var html = await page.Content.ReadAsStringAsync();

        var files = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match m in Referenced().Matches(html))
            files.Add(m.Groups["file"].Value);
        Assert.Contains("app.js", files);
        var pending = new Queue<string>(files);
        while (pending.TryDequeue(out var file))
        {
            using var response = await _http.GetAsync(new Uri(file, UriKind.Relative));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{file}: {response.StatusCode}");
            var body = await response.Content.ReadAsStringAsync();
            // Only the SVG namespace is written as a URL, and it is a name, not a load.
            Assert.DoesNotMatch(new Regex(@"(?:https?:)?//(?!www\.w3\.org/2000/svg)[a-z0-9.-]+\.[a-z]{2,}", RegexOptions.IgnoreCase), body.Replace("// ", "", StringComparison.Ordinal));
            foreach (Match m in Imported().Matches(body))
            {
                if (files.Add(m.Groups["file"].Value))
                    pending.Enqueue(m.Groups["file"].Value);
            }
        }
        Assert.Contains("model.js", files);
        Assert.Contains("draw.js", files);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync(new Uri("nothing.js", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task The_event_feed_says_hello_then_relays_every_members_state_with_one_leader()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var stream = await _http.GetStreamAsync(new Uri("events", UriKind.Relative), cancel.Token);
        using var reader = new StreamReader(stream);
        var hello = await NextDataAsync(reader, cancel.Token);
        Assert.True(hello.GetProperty("hello").GetBoolean());
        Assert.Equal(3, hello.GetProperty("endpoints").GetArrayLength());

        var states = new Dictionary<string, JsonElement>();
        while (states.Count < 3 || states.Values.Count(s => s.GetProperty("role").GetString() == "ROLE_LEADER") != 1)
        {
            var line = await NextDataAsync(reader, cancel.Token);
            if (line.GetProperty("event").TryGetProperty("state", out var state) && state.ValueKind == JsonValueKind.Object)
                states[line.GetProperty("endpoint").GetString()!] = state;
        }
        var leader = states.Values.Single(s => s.GetProperty("role").GetString() == "ROLE_LEADER").GetProperty("id").GetString();
        Assert.All(states.Values, s => Assert.Equal(leader, s.GetProperty("leader").GetString()));
    }

    [Fact]
    public async Task The_client_box_puts_a_key_and_gets_it_back_and_says_why_a_put_failed()
    {
        using var put = await _http.PostAsJsonAsync(new Uri("api/put", UriKind.Relative), new { key = "box", value = "v1" });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var written = await put.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(written.GetProperty("revision").GetInt64() > 1);

        var read = await _http.GetFromJsonAsync<JsonElement>(new Uri("api/get?key=box", UriKind.Relative));
        Assert.Equal("v1", read.GetProperty("value").GetString());

        using var noKey = await _http.PostAsJsonAsync(new Uri("api/put", UriKind.Relative), new { value = "v" });
        Assert.Equal(HttpStatusCode.BadRequest, noKey.StatusCode);
    }

    private static async Task<JsonElement> NextDataAsync(StreamReader reader, CancellationToken cancellation)
    {
        while (true)
        {
            var line = await reader.ReadLineAsync(cancellation) ?? throw new EndOfStreamException();
            if (line.StartsWith("data: ", StringComparison.Ordinal))
                return JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone();
        }
    }

    [GeneratedRegex(@"(?:src|href)=""(?<file>[^""]+)""")]
    private static partial Regex Referenced();

    [GeneratedRegex(@"from\s+""\./(?<file>[^""]+)""")]
    private static partial Regex Imported();
}
