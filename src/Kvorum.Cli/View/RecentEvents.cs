using System.Threading.Channels;

namespace Kvorum.Cli.View;

/// <summary>
/// The events the view has relayed, as JSON lines: the last <see cref="Window"/> of them (at most
/// <see cref="DefaultMaxKept"/> by default) kept for a page that opens later, which replays them, and each new one handed to every
/// open page. A page that reads too slowly loses its oldest undelivered events; the members never wait for a page.
/// </summary>
internal sealed class RecentEvents(TimeSpan window, int maxKept = RecentEvents.DefaultMaxKept)
{
    /// <summary>The most events kept for replay.</summary>
    public const int DefaultMaxKept = 50_000;

    /// <summary>Events a page may fall behind before it loses the oldest.</summary>
    public const int PageBacklog = 10_000;

    private readonly Lock _gate = new();
    private readonly Queue<(long At, string Json)> _kept = new();
    private readonly List<Channel<string>> _pages = [];

    /// <summary>How long events are kept for replay.</summary>
    public TimeSpan Window { get; } = window;

    /// <summary>Keeps <paramref name="json"/> and hands it to every open page.</summary>
    public void Add(string json)
    {
        var now = Environment.TickCount64;
        lock (_gate)
        {
            _kept.Enqueue((now, json));
            while (_kept.Count > maxKept || (_kept.TryPeek(out var oldest) && now - oldest.At > (long)Window.TotalMilliseconds))
                _kept.Dequeue();
            foreach (var page in _pages)
                page.Writer.TryWrite(json);
        }
    }

    /// <summary>
    /// Opens a page's feed: the events kept so far, then each new one, until <paramref name="cancellation"/>.
    /// </summary>
    public async IAsyncEnumerable<string> FollowAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation)
    {
        var page = Channel.CreateBounded<string>(new BoundedChannelOptions(PageBacklog) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        string[] replay;
        lock (_gate)
        {
            replay = [.. _kept.Select(k => k.Json)];
            _pages.Add(page);
        }
        try
        {
            foreach (var json in replay)
                yield return json;
            while (await page.Reader.WaitToReadAsync(cancellation).ConfigureAwait(false))
            {
                while (page.Reader.TryRead(out var json))
                    yield return json;
            }
        }
        finally
        {
            lock (_gate)
                _pages.Remove(page);
        }
    }
}
