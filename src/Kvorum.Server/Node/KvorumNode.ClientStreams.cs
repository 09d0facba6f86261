namespace Kvorum.Server.Node;

/// <summary>
/// The long-lived client streams this member serves (watches, lease keep-alives, the Raft event stream), and their
/// end when it stops: each ends with "server stopped" before the client listener goes, instead of holding the
/// listener's shutdown until its timeout and then losing its connection without a word.
/// </summary>
internal sealed partial class KvorumNode
{
    /// <summary>Stream calls being served (each counts itself in and out).</summary>
    private int _clientStreams;

    /// <summary>Fires when the member starts to stop: the streams that wait on their client end then.</summary>
    private readonly CancellationTokenSource _clientStreamsEnd = new();

    /// <summary>Fires when the member starts to stop (<see cref="EndClientStreamsAsync"/>).</summary>
    internal CancellationToken ClientStreamsEnding => _clientStreamsEnd.Token;

    /// <summary>A stream call starts being served.</summary>
    internal void ClientStreamStarted() => Interlocked.Increment(ref _clientStreams);

    /// <summary>A stream call has been served.</summary>
    internal void ClientStreamEnded() => Interlocked.Decrement(ref _clientStreams);

    /// <summary>
    /// Before the client listener stops: ends every watch stream with "server stopped" (and any opened later), and
    /// every other stream call through <see cref="ClientStreamsEnding"/>; waits up to <paramref name="wait"/> for
    /// the calls to finish, so that their status goes out ahead of the listener's own goodbye to the connection (a
    /// client that saw only the connection close could not tell a stop from a network fault); and then gives their
    /// clients <paramref name="grace"/> to finish their side of the streams.
    /// </summary>
    /// <remarks>
    /// The grace is needed because the listener closes a connection the moment its last stream is done, and a .NET
    /// client whose request side of a stream is still open (every watch and keep-alive client's is) fails that
    /// stream when the connection closes before it has let go of the request side, even though the status has
    /// arrived. With no stream open, nothing waits.
    /// </remarks>
    internal async Task EndClientStreamsAsync(TimeSpan wait, TimeSpan grace)
    {
        // A loop that has already stopped (this member was removed) ended the watch streams itself as it stopped.
        _ = OnWatchers(registry => registry.CloseAll(Etcd.Errors.EtcdErrors.ServerStopped));
        await _clientStreamsEnd.CancelAsync().ConfigureAwait(false);
        if (Volatile.Read(ref _clientStreams) == 0)
            return;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (Volatile.Read(ref _clientStreams) > 0 && waited.Elapsed < wait)
            await Task.Delay(10).ConfigureAwait(false);
        await Task.Delay(grace).ConfigureAwait(false);
    }
}
