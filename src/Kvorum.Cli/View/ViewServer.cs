using System.Net;
using System.Text;
using Google.Protobuf;
using Kvorum.Cli.Client;
using Kvorum.Etcd.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kvorum.Cli.View;

/// <summary>
/// The web side of <c>kvorum view</c>: follows every member's event stream (<see cref="MemberFeed"/>) and serves one
/// page (<see cref="ViewAssets"/>) that draws them, fed by Server-Sent Events (<c>/events</c>: a hello line, then the
/// recent events, then each new one), and answers the page's client box (<c>/api/put</c>, <c>/api/get</c>) through
/// the members' etcd API. Started for a lab or a cluster, it also draws their fault state and offers controls
/// (<c>ViewServer.Controls.cs</c>).
/// </summary>
internal sealed partial class ViewServer : IAsyncDisposable
{
    /// <summary>How long events are kept for a page to replay.</summary>
    public static readonly TimeSpan ReplayWindow = TimeSpan.FromMinutes(5);

    private readonly WebApplication _app;
    private readonly RecentEvents _events = new(ReplayWindow);
    private readonly EtcdConnection _connection;
    private readonly ClientSettings _settings;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _running = [];

    /// <summary>Prepares the server; <see cref="StartAsync"/> listens and subscribes.</summary>
    /// <param name="settings">The members to follow, and how to reach them.</param>
    /// <param name="listen">The page's address.</param>
    /// <param name="controls">What the page may change, or null for a view that only looks.</param>
    public ViewServer(ClientSettings settings, IPEndPoint listen, IViewControls? controls = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(listen);
        _controls = controls;
        _settings = settings;
        _guard = new ControlGuard(listen);
        _tls = settings.Tls;
        _startEndpoints = settings.Endpoints;
        _feeds = [.. settings.Endpoints.Select(e => new MemberFeed(e, _events, settings.Tls))];
        _feedsStop = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        controls?.Narrate(RelayScenario);
        _connection = new EtcdConnection(settings);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(listen));
        _app = builder.Build();
        _app.Use(async (http, next) =>
        {
            var headers = http.Response.Headers;
            headers.ContentSecurityPolicy = ViewAssets.ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.CacheControl = "no-store";
            await next(http).ConfigureAwait(false);
        });
        _app.MapGet("/", () => Asset("index.html"));
        _app.MapGet("/{name}", (string name) => Asset(name));
        _app.MapGet("/events", FollowAsync);
        _app.MapPost("/api/put", (ClientBoxRequest form, CancellationToken cancellation) => PutAsync(form, cancellation));
        _app.MapGet("/api/get", GetAsync);
        if (controls is not null)
            _app.MapPost("/api/control", ControlAsync);
    }

    /// <summary>The page's address, once started.</summary>
    public Uri Url { get; private set; } = new("http://127.0.0.1/");

    /// <summary>Listens, and starts following the members.</summary>
    /// <exception cref="IOException">The address is taken.</exception>
    public async Task StartAsync()
    {
        await _app.StartAsync().ConfigureAwait(false);
        Url = new Uri(_app.Urls.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/");
        _guard.Port = Url.Port;
        StartFeeds();
        if (_controls is not null)
        {
            lock (_feedsGate)
                _running.Add(FollowPictureAsync(_controls, _stop.Token));
        }
    }

    private static IResult Asset(string name) =>
        ViewAssets.TryGet(name, out var content, out var type) ? Results.Bytes(content, type) : Results.NotFound();

    private async Task FollowAsync(HttpContext http)
    {
        var cancellation = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, _stop.Token);
        using (cancellation)
        {
            http.Response.ContentType = "text/event-stream";
            var body = http.Response.Body;
            var hello = System.Text.Json.JsonSerializer.Serialize(new
            {
                hello = true,
                endpoints = Feeds.Select(f => f.Endpoint).ToArray(),
                replaySeconds = (int)ReplayWindow.TotalSeconds,
                controls = _controls is null ? null : new { title = _controls.Title, actions = _controls.Actions, token = _guard.Token, scenarios = _controls.Scenarios.Select(c => new { name = c.Name, summary = c.Summary }) },
            });
            await WriteEventAsync(body, hello, cancellation.Token).ConfigureAwait(false);
            try
            {
                await foreach (var json in _events.FollowAsync(cancellation.Token).ConfigureAwait(false))
                    await WriteEventAsync(body, json, cancellation.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private static async Task WriteEventAsync(Stream body, string json, CancellationToken cancellation)
    {
        await body.WriteAsync(Encoding.UTF8.GetBytes("data: " + json + "\n\n"), cancellation).ConfigureAwait(false);
        await body.FlushAsync(cancellation).ConfigureAwait(false);
    }

    private async Task<IResult> PutAsync(ClientBoxRequest form, CancellationToken cancellation)
    {
        if (string.IsNullOrEmpty(form.Key))
            return Results.BadRequest(new { error = "a key is needed" });
        var request = new PutRequest { Key = ByteString.CopyFromUtf8(form.Key), Value = ByteString.CopyFromUtf8(form.Value ?? "") };
        return await AnswerAsync(async (channel, options) =>
        {
            var response = await new KV.KVClient(channel).PutAsync(request, options).ResponseAsync.ConfigureAwait(false);
            return new { revision = response.Header.Revision, member = response.Header.MemberId.ToString("x", null) };
        }, form.Via, cancellation).ConfigureAwait(false);
    }

    private async Task<IResult> GetAsync(HttpContext http, string key, bool? serializable, string? via)
    {
        var request = new RangeRequest { Key = ByteString.CopyFromUtf8(key), Serializable = serializable ?? false };
        return await AnswerAsync(async (channel, options) =>
        {
            var response = await new KV.KVClient(channel).RangeAsync(request, options).ResponseAsync.ConfigureAwait(false);
            return new
            {
                revision = response.Header.Revision,
                member = response.Header.MemberId.ToString("x", null),
                value = response.Kvs.Count > 0 ? response.Kvs[0].Value.ToStringUtf8() : null,
            };
        }, via, http.RequestAborted).ConfigureAwait(false);
    }

    // Through the member the page picked (`via`, one of its endpoints), or any that answers of those the view follows
    // now: a running scenario's own members, while it runs.
    private async Task<IResult> AnswerAsync<T>(Func<Grpc.Net.Client.GrpcChannel, Grpc.Core.CallOptions, Task<T>> call, string? via, CancellationToken cancellation)
    {
        try
        {
            if (string.IsNullOrEmpty(via))
            {
                Uri[] followed = [.. Feeds.Select(f => f.Url)];
                if (followed.SequenceEqual(_startEndpoints))
                    return Results.Json(await _connection.CallAsync(call, cancellation).ConfigureAwait(false));
                using var elsewhere = new EtcdConnection(_settings with { Endpoints = followed });
                return Results.Json(await elsewhere.CallAsync(call, cancellation).ConfigureAwait(false));
            }
            if (Feeds.FirstOrDefault(f => f.Endpoint == via) is not { } member)
                return Results.BadRequest(new { error = $"no member {via} in this view" });
            return Results.Json(await _connection.CallAsync(member.Url, call, cancellation).ConfigureAwait(false));
        }
        catch (Grpc.Core.RpcException e)
        {
            return Results.Json(new { error = EtcdConnection.ErrorLine(e) }, statusCode: StatusCodes.Status502BadGateway);
        }
        catch (CommandFailedException e)
        {
            return Results.Json(new { error = e.Message }, statusCode: StatusCodes.Status502BadGateway);
        }
    }

    /// <summary>Stops following and serving.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_controls is IAsyncDisposable owned)
            await owned.DisposeAsync().ConfigureAwait(false);
        await _stop.CancelAsync().ConfigureAwait(false);
        Task[] running;
        lock (_feedsGate)
            running = [.. _running];
        await Task.WhenAll(running).ConfigureAwait(false);
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _connection.Dispose();
        _feedsStop.Dispose();
        _stop.Dispose();
        _oneAtATime.Dispose();
    }

    /// <summary>The client box's put.</summary>
    internal sealed record ClientBoxRequest(string? Key, string? Value, string? Via = null);
}
