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
    /// Before the client listener stops: ends every watch stream with "server stopped" (and any opened later), and
    /// waits up to <paramref name="wait"/> for their calls to finish, so that the status goes out ahead of the
    /// listener's own goodbye to the connection; a client that saw only the connection close could not tell a stop
    /// from a network fault.
    /// </summary>
    internal async Task EndWatchStreamsAsync(TimeSpan wait)
    {
        if (!OnWatchers(registry => registry.CloseAll(Etcd.Errors.EtcdErrors.ServerStopped)))
            return;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (Volatile.Read(ref _watchSessions) > 0 && waited.Elapsed < wait)
            await Task.Delay(10).ConfigureAwait(false);
    }

    /// <summary>The registry, for tests that drive it on a stopped or unstarted member.</summary>
    internal WatcherRegistry Watchers => _watchers;

    private static WatcherRegistry NewWatcherRegistry(StateMachine state, Action<Action> post, LoopOwner owner) =>
        new(state.Store, static work => ThreadPool.UnsafeQueueUserWorkItem(static w => w(), work, preferLocal: false), post, owner);
}
