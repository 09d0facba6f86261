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

    /// <summary>The registry, for tests that drive it on a stopped or unstarted member.</summary>
    internal WatcherRegistry Watchers => _watchers;

    private static WatcherRegistry NewWatcherRegistry(StateMachine state, Action<Action> post, LoopOwner owner) =>
        new(state.Store, static work => ThreadPool.UnsafeQueueUserWorkItem(static w => w(), work, preferLocal: false), post, owner);
}
