using Kvorum.Lab.Faults;
using Kvorum.Lab.Nodes;
using Kvorum.Lab.Topology;

namespace Kvorum.Lab;

/// <summary>One row of <c>kvorum lab status</c>.</summary>
/// <param name="Node">The node's layout.</param>
/// <param name="Pid">Its server's pid, 0 when not running.</param>
/// <param name="Process">running, paused or down.</param>
/// <param name="Status">What it answered; null when it did not.</param>
/// <param name="LeaderNode">The node it names as leader, or null.</param>
/// <param name="Faults">The faults that touch it.</param>
internal sealed record NodeRow(NodeLayout Node, int Pid, string Process, NodeStatus? Status, int? LeaderNode, IReadOnlyList<string> Faults);

/// <summary>Status of every node.</summary>
internal sealed partial class LabControl
{
    /// <summary>Asks every node for its status (in parallel, short deadline).</summary>
    /// <param name="cancellation">Cancels the calls.</param>
    /// <returns>One row per node.</returns>
    public async Task<IReadOnlyList<NodeRow>> StatusAsync(CancellationToken cancellation)
    {
        var faults = _state.FaultSet();
        var statuses = await Task.WhenAll(Layout.Nodes.Select(n =>
            IsRunning(n.Number) ? Client.StatusAsync(n.Number, StatusDeadline, cancellation) : Task.FromResult<NodeStatus?>(null))).ConfigureAwait(false);
        var ids = new Dictionary<ulong, int>();
        foreach ((var status, var node) in statuses.Zip(Layout.Nodes))
        {
            if (status is not null)
                ids[status.MemberId] = node.Number;
        }

        return [.. Layout.Nodes.Select((n, i) =>
        {
            var pid = Pid(n.Number);
            var process = pid == 0 ? "down" : IsPaused(n.Number) ? "paused" : "running";
            var s = statuses[i];
            int? leader = s is not null && ids.TryGetValue(s.Leader, out var l) ? l : null;
            return new NodeRow(n, pid, process, s, leader, [.. faults.Describe(n.Number)]);
        })];
    }
}
