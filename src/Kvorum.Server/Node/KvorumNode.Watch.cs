using Kvorum.Server.Watch;

namespace Kvorum.Server.Node;

/// <summary>
/// The member's watchers (<see cref="WatcherRegistry"/>), which the loop owns beside the store they watch: the store's
/// commits reach them as it applies, a tick runs a catch-up pass, an installed snapshot sends them back to the
/// history, and a stopping loop ends their streams.
/// </summary>
internal sealed partial class KvorumNode
{
    /// <summary>
    /// Runs <paramref name="work"/> on the loop with the registry. False when the loop has stopped, and the work
    /// will never run.
    /// </summary>
    internal bool OnWatchers(Action<WatcherRegistry> work)
    {
        Post(() => work(_watchers));
        return !Volatile.Read(ref _closed);
    }

    /// <summary>Watch calls being served (<see cref="Api.WatchStreamSession"/> counts itself in and out).</summary>
    private int _watchSessions;

    /// <summary>A watch call starts being served.</summary>
    internal void WatchSessionStarted() => Interlocked.Increment(ref _watchSessions);

    /// <summary>A watch call has been served.</summary>
    internal void WatchSessionEnded() => Interlocked.Decrement(ref _watchSessions);

    /// <summary>
    /// Before the client listener stops: ends every watch stream with "server stopped" (and any opened later), waits
    /// up to <paramref name="wait"/> for their calls to finish, so that the status goes out ahead of the listener's
    /// own goodbye to the connection (a client that saw only the connection close could not tell a stop from a
    /// network fault), and then gives their clients <paramref name="grace"/> to finish their side of the streams.
    /// </summary>
    /// <remarks>
    /// The grace is needed because the listener closes a connection the moment its last stream is done, and a .NET
    /// client whose request side of a stream is still open (every watch client's is) fails that stream when the
    /// connection closes before it has let go of the request side, even though the status has arrived.
    /// </remarks>
    internal async Task EndWatchStreamsAsync(TimeSpan wait, TimeSpan grace)
    {
        if (!OnWatchers(registry => registry.CloseAll(Etcd.Errors.EtcdErrors.ServerStopped)) || Volatile.Read(ref _watchSessions) == 0)
            return;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (Volatile.Read(ref _watchSessions) > 0 && waited.Elapsed < wait)
            await Task.Delay(10).ConfigureAwait(false);
        await Task.Delay(grace).ConfigureAwait(false);
    }

    /// <summary>The registry, for tests that drive it on a stopped or unstarted member.</summary>
    internal WatcherRegistry Watchers => _watchers;

    private static WatcherRegistry NewWatcherRegistry(StateMachine state, Action<Action> post, LoopOwner owner) =>
        new(state.Store, static work => ThreadPool.UnsafeQueueUserWorkItem(static w => w(), work, preferLocal: false), post, owner);
}
