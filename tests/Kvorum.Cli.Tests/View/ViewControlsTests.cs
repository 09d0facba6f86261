using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kvorum.Cli.Client;
using Kvorum.Cli.View;

namespace Kvorum.Cli.Tests.View;

/// <summary>
/// The view's controls (<see cref="IViewControls"/>, as <c>kvorum lab up</c> gives them): only the page's own
/// requests run an action (its host, its origin, its token), the fault picture reaches the page as a <c>lab</c>
/// line, a view without controls has no control endpoint, and the view knows when the system is gone. No member
/// runs: the members' endpoints are unreachable, which the controls do not need.
/// </summary>
public sealed class ViewControlsTests
{
    private static readonly Uri Nowhere = new("http://127.0.0.1:1");

    [Fact]
    public async Task Only_the_pages_own_request_with_its_token_runs_an_action_and_is_answered_with_what_the_command_prints()
    {
        var controls = new RecordingControls();
        await using var view = new ViewServer(new ClientSettings { Endpoints = [Nowhere] }, new IPEndPoint(IPAddress.Loopback, 0), controls);
        await view.StartAsync();
        using var http = new HttpClient { BaseAddress = view.Url, Timeout = TimeSpan.FromSeconds(30) };
        var hello = JsonDocument.Parse(await FirstLineAsync(http, _ => true)).RootElement;
        var token = hello.GetProperty("controls").GetProperty("token").GetString()!;
        Assert.Contains("partition", hello.GetProperty("controls").GetProperty("actions").EnumerateArray().Select(a => a.GetString()));

        var kill = new ControlRequest("kill", Node: 2);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(http, kill, token: null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(http, kill, token: (token[0] == '0' ? "1" : "0") + token[1..])).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(http, kill, token, origin: "http://evil.example")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(http, kill, token, host: $"rebound.example:{view.Url.Port}")).StatusCode);
        Assert.Empty(controls.Runs);

        using var ran = await PostAsync(http, kill, token, origin: view.Url.GetLeftPart(UriPartial.Authority));
        Assert.Equal(HttpStatusCode.OK, ran.StatusCode);
        Assert.Equal("n2: killed", (await ran.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("done").GetString());
        Assert.Equal(kill, Assert.Single(controls.Runs));

        using var refused = await PostAsync(http, new ControlRequest("partition", Groups: [[1], [7]]), token);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("kvorum lab: no node 7: the lab has nodes 1..3", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(http, new ControlRequest("format-disk"), token)).StatusCode);
    }

    [Fact]
    public async Task The_fault_picture_reaches_the_page_as_a_lab_line_and_the_view_ends_when_the_system_is_gone()
    {
        var controls = new RecordingControls();
        await using var view = new ViewServer(new ClientSettings { Endpoints = [Nowhere] }, new IPEndPoint(IPAddress.Loopback, 0), controls);
        await view.StartAsync();
        using var http = new HttpClient { BaseAddress = view.Url, Timeout = TimeSpan.FromSeconds(30) };
        var line = JsonDocument.Parse(await FirstLineAsync(http, l => l.Contains("\"lab\"", StringComparison.Ordinal))).RootElement;
        Assert.Equal("[[1,2],[2,1]]", line.GetProperty("lab").GetProperty("blocked").GetRawText());
        Assert.True(line.TryGetProperty("unixMicros", out _));

        Assert.False(view.SystemGone.IsCompleted);
        controls.Gone = true;
        await view.SystemGone.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_scenarios_lines_reach_the_page_and_the_view_follows_the_members_its_controls_name()
    {
        var controls = new RecordingControls();
        await using var view = new ViewServer(new ClientSettings { Endpoints = [Nowhere] }, new IPEndPoint(IPAddress.Loopback, 0), controls);
        await view.StartAsync();
        using var http = new HttpClient { BaseAddress = view.Url, Timeout = TimeSpan.FromSeconds(30) };
        var hello = JsonDocument.Parse(await FirstLineAsync(http, _ => true)).RootElement;
        Assert.Equal("leader-isolation", hello.GetProperty("controls").GetProperty("scenarios")[0].GetProperty("name").GetString());

        controls.Relay(new ScenarioLine("leader-isolation", "         HELD   a new leader: n2", Running: true));
        var said = JsonDocument.Parse(await FirstLineAsync(http, l => l.Contains("\"scenario\"", StringComparison.Ordinal))).RootElement.GetProperty("scenario");
        Assert.Equal("         HELD   a new leader: n2", said.GetProperty("text").GetString());
        Assert.True(said.GetProperty("running").GetBoolean());

        controls.Elsewhere = new Uri("http://127.0.0.1:2");
        var members = JsonDocument.Parse(await FirstLineAsync(http, l => l.Contains("\"members\"", StringComparison.Ordinal))).RootElement;
        Assert.Equal("127.0.0.1:2", Assert.Single(members.GetProperty("members").EnumerateArray()).GetString());

        // The client box's "any member" goes to the members followed now (the scenario's), not the view's own.
        using var put = await http.PostAsync(new Uri("api/put", UriKind.Relative), JsonContent.Create(new { key = "k", value = "v" }));
        var error = (await put.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetString();
        Assert.Contains("127.0.0.1:2 ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_view_without_controls_offers_none()
    {
        await using var view = new ViewServer(new ClientSettings { Endpoints = [Nowhere] }, new IPEndPoint(IPAddress.Loopback, 0));
        await view.StartAsync();
        using var http = new HttpClient { BaseAddress = view.Url, Timeout = TimeSpan.FromSeconds(30) };
        var hello = JsonDocument.Parse(await FirstLineAsync(http, _ => true)).RootElement;
        Assert.Equal(JsonValueKind.Null, hello.GetProperty("controls").ValueKind);
        using var response = await PostAsync(http, new ControlRequest("kill", Node: 1), token: "");
        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient http, ControlRequest request, string? token, string? origin = null, string? host = null)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri("api/control", UriKind.Relative)) { Content = JsonContent.Create(request) };
        if (token is not null)
            message.Headers.Add(ControlGuard.TokenHeader, token);
        if (origin is not null)
            message.Headers.Add("Origin", origin);
        if (host is not null)
            message.Headers.Host = host;
        return await http.SendAsync(message);
    }

    private static async Task<string> FirstLineAsync(HttpClient http, Func<string, bool> wanted)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var stream = await http.GetStreamAsync(new Uri("events", UriKind.Relative), timeout.Token);
        using var reader = new StreamReader(stream);
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal) && wanted(line["data: ".Length..]))
                return line["data: ".Length..];
        }

        throw new InvalidOperationException("the event stream ended");
    }

    /// <summary>Controls that record what they are asked to do, refuse node 7, and draw n1 and n2 cut.</summary>
    private sealed class RecordingControls : IViewControls
    {
        public List<ControlRequest> Runs { get; } = [];

        public volatile bool Gone;

        public IReadOnlyList<string> Actions { get; } = ["kill", "start", "partition", "heal"];

        public Task<string> RunAsync(ControlRequest request, CancellationToken cancellation)
        {
            if (request.Groups?.SelectMany(g => g).Contains(7) == true)
                throw new CommandFailedException("kvorum lab: no node 7: the lab has nodes 1..3");
            lock (Runs)
                Runs.Add(request);
            return Task.FromResult($"n{request.Node}: killed");
        }

        public string? Picture() => Gone ? null : """{"nodes":[],"faults":["#1 cut 1<->2"],"blocked":[[1,2],[2,1]]}""";

        public volatile Uri? Elsewhere;

        public Action<ScenarioLine> Relay { get; private set; } = _ => { };

        public IReadOnlyList<ScenarioChoice> Scenarios { get; } = [new("leader-isolation", "the leader is cut off")];

        public IReadOnlyList<Uri>? Members() => Elsewhere is { } other ? [other] : null;

        public void Narrate(Action<ScenarioLine> relay) => Relay = relay;
    }
}
