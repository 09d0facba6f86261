using System.Globalization;
using System.Text.Json;
using Kvorum.Cli.Client;

namespace Kvorum.Cli.View;

/// <summary>
/// The members the view follows, which its controls may change while it runs (a scenario's own lab, while the
/// scenario runs): each change ends the old feeds, starts new ones and tells the pages in a <c>{"members": …}</c>
/// line, so that a page (and its replay) starts a fresh picture there; and a running scenario's lines, relayed as
/// <c>{"scenario": …}</c> lines beside the members' events.
/// </summary>
internal sealed partial class ViewServer
{
    private static readonly JsonSerializerOptions LineJson = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private readonly Lock _feedsGate = new();
    private readonly ClientTls? _tls;
    private readonly IReadOnlyList<Uri> _startEndpoints;
    private List<MemberFeed> _feeds;
    private CancellationTokenSource _feedsStop = new();

    private IReadOnlyList<MemberFeed> Feeds
    {
        get
        {
            lock (_feedsGate)
                return _feeds;
        }
    }

    private void StartFeeds()
    {
        lock (_feedsGate)
        {
            foreach (var feed in _feeds)
                _running.Add(feed.RunAsync(_feedsStop.Token));
        }
    }

    // The members the controls want followed now; the ones the view started with when they want none of their own.
    private void FollowMembers(IViewControls controls)
    {
        IReadOnlyList<Uri> wanted;
        try
        {
            wanted = controls.Members() ?? _startEndpoints;
        }
        catch (Exception e) when (e is CommandFailedException or IOException or JsonException)
        {
            // A state file being rewritten: the next look decides.
            return;
        }

        lock (_feedsGate)
        {
            if (wanted.Select(EndpointParser.Display).SequenceEqual(_feeds.Select(f => f.Endpoint)))
                return;
            _feedsStop.Cancel();
            _feedsStop.Dispose();
            _feedsStop = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            _feeds = [.. wanted.Select(e => new MemberFeed(e, _events, _tls))];
            _events.Add(JsonSerializer.Serialize(new { members = _feeds.Select(f => f.Endpoint), unixMicros = UnixMicros() }, LineJson));
        }

        StartFeeds();
    }

    private void RelayScenario(ScenarioLine line) =>
        _events.Add(JsonSerializer.Serialize(new { scenario = line, unixMicros = UnixMicros() }, LineJson));

    private static string UnixMicros() =>
        (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000).ToString(CultureInfo.InvariantCulture);
}
