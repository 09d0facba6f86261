using System.Diagnostics;
using Kvorum.Raft;
using Kvorum.Server.Observe;

namespace Kvorum.Server.Node;

/// <summary>
/// The member's event stream (<c>kvorum.Observe/Events</c>): watchers subscribe through the loop, which publishes to
/// them the messages it sends and receives and, after each turn, its state when that changed (<see cref="MemberObservers"/>).
/// </summary>
internal sealed partial class KvorumNode
{
    /// <summary>The watchers; the loop's hooks check <see cref="MemberObservers.Active"/> before anything else.</summary>
    private readonly MemberObservers _observers;

    /// <summary>The lab's record of this member's faults (<see cref="ServerOptions.LabStateFile"/>). Loop thread only.</summary>
    private LabStateFile? _labStateFile;

    /// <summary>A buffer for the leader's progress, reused each turn. Loop thread only.</summary>
    private readonly List<KeyValuePair<ulong, ProgressStatus>> _observedProgress = [];

    /// <summary>
    /// Subscribes a watcher: its queue's first event is the member's state, read on the loop, and every event after it
    /// follows from there. Call <see cref="Unsubscribe"/> when the watcher leaves.
    /// </summary>
    internal ObserverQueue Subscribe()
    {
        var queue = _observers.NewQueue();
        Post(() => _observers.Add(queue, ReadObservedState()));
        return queue;
    }

    /// <summary>Removes a watcher (a no-op once the loop has stopped).</summary>
    internal void Unsubscribe(ObserverQueue queue) => Post(() => _observers.Remove(queue));

    /// <summary>
    /// Under load the indexes move every turn: a change of them alone is published at most once per this interval (at
    /// the first turn after it; the tick makes one at least every heartbeat interval), so that the watchers get the
    /// latest state, exact, without one per turn. A change of role, term, vote or leader goes out at once.
    /// </summary>
    private static readonly long ObservedIndexInterval = Stopwatch.Frequency / 100;

    /// <summary>When (a <see cref="Stopwatch"/> timestamp) the state was last published. Loop thread only.</summary>
    private long _observedAt;

    /// <summary>On the loop, at the end of a turn with watchers: publishes the state if it changed.</summary>
    private void ObserveTurn()
    {
        _owner.AssertOwned();
        _raft.CopyProgress(_observedProgress);
        var last = _observers.LastState;
        var labFaults = LabFaults(force: false);
        if (last is not null && last.LabFaults == labFaults && last.IsCurrent(_raft, _state.AppliedIndex, _raft.Config.IsLearner(MemberId), _observedProgress))
            return;
        var now = Stopwatch.GetTimestamp();
        if (last is not null && last.Term == _raft.Term && last.Role == _raft.Role && last.Vote == _raft.Vote && last.Leader == _raft.Lead
            && last.LabFaults == labFaults && now - _observedAt < ObservedIndexInterval)
            return;
        _observedAt = now;
        _observers.PublishState(ObservedState.Read(_raft, _state.AppliedIndex, _raft.Config.IsLearner(MemberId), _options.HeartbeatIntervalMs, _observedProgress, labFaults));
    }

    // The fault state the lab wrote for this member, read at most every LabStateFile.Interval while watched.
    private string LabFaults(bool force)
    {
        if (_options.LabStateFile is null)
            return "";
        _labStateFile ??= new LabStateFile(_options.LabStateFile);
        return _labStateFile.Refresh(force);
    }

    private ObservedState ReadObservedState()
    {
        _owner.AssertOwned();
        _raft.CopyProgress(_observedProgress);
        return ObservedState.Read(_raft, _state.AppliedIndex, _raft.Config.IsLearner(MemberId), _options.HeartbeatIntervalMs, _observedProgress, LabFaults(force: true));
    }
}
