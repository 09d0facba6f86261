using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using Kvorum.Cli.Client;
using Kvorum.Server.Observe.Wire;

namespace Kvorum.Cli.View;

/// <summary>
/// Follows one member's event stream (<c>kvorum.Observe/Events</c>) for as long as the view runs, and relays each
/// event as a JSON line (<see cref="Line"/>) to <see cref="RecentEvents"/>. When the stream breaks (the member
/// stopped, or is not up yet) it says so in a line of its own and subscribes again, once a second.
/// </summary>
internal sealed class MemberFeed(Uri endpoint, RecentEvents events, ClientTls? tls = null)
{
    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));
    private static readonly TimeSpan Retry = TimeSpan.FromSeconds(1);

    /// <summary>The endpoint as the page shows it.</summary>
    public string Endpoint { get; } = EndpointParser.Display(endpoint);

    /// <summary>The endpoint's URL, for a client-box call sent through this member alone.</summary>
    public Uri Url => endpoint;

    /// <summary>Relays events until <paramref name="cancellation"/>.</summary>
    public async Task RunAsync(CancellationToken cancellation)
    {
        var up = false;
        while (!cancellation.IsCancellationRequested)
        {
            try
            {
                using var channel = EtcdConnection.OpenChannel(endpoint, TimeSpan.FromSeconds(2), tls);
                using var call = new Observe.ObserveClient(channel).Events(new EventsRequest(), cancellationToken: cancellation);
                await foreach (var e in call.ResponseStream.ReadAllAsync(cancellation).ConfigureAwait(false))
                {
                    up = true;
                    events.Add(Line(Endpoint, Json.Format(e)));
                }
            }
            catch (Exception e) when (e is RpcException or OperationCanceledException or HttpRequestException)
            {
                if (cancellation.IsCancellationRequested)
                    return;
            }
            if (up)
                events.Add(Down(Endpoint));
            up = false;
            try
            {
                await Task.Delay(Retry, cancellation).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One relayed event: <c>{"endpoint": …, "event": {…}}</c>, the event in protobuf's JSON form.</summary>
    public static string Line(string endpoint, string eventJson) =>
        string.Create(CultureInfo.InvariantCulture, $"{{\"endpoint\":{System.Text.Json.JsonSerializer.Serialize(endpoint)},\"event\":{eventJson}}}");

    /// <summary>The line that says the member's stream broke: <c>{"endpoint": …, "down": true, "unixMicros": …}</c>.</summary>
    public static string Down(string endpoint) =>
        string.Create(CultureInfo.InvariantCulture, $"{{\"endpoint\":{System.Text.Json.JsonSerializer.Serialize(endpoint)},\"down\":true,\"unixMicros\":\"{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000}\"}}");
}
