using Kvorum.Lab.State;
using Kvorum.Lab.Topology;

namespace Kvorum.Lab.Faults;

/// <summary>
/// Each member's fault state, written for the member itself: <c>&lt;lab&gt;/nK.faults</c>, one line with the faults that
/// touch it in the words of <c>kvorum lab status</c> (empty when none), which the member is told about with
/// <c>--experimental-lab-state-file</c> and publishes in its event stream. Rewritten whenever the lab saves its state,
/// so that it never lags the lab's own record by more than the member's read interval.
/// </summary>
internal static class MemberFaultFiles
{
    /// <summary>The file of <paramref name="node"/>, beside its log.</summary>
    /// <param name="node">The member.</param>
    /// <returns>Its path.</returns>
    public static string PathOf(NodeLayout node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return Path.Combine(Path.GetDirectoryName(node.LogFile) ?? ".", $"{node.Name}.faults");
    }

    /// <summary>Writes every member's file from <paramref name="state"/>'s faults (each replaced whole, never half written).</summary>
    /// <param name="directory">The lab directory.</param>
    /// <param name="state">The lab state.</param>
    public static void Write(string directory, LabState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var faults = state.FaultSet();
        foreach (var node in state.Layout(directory).Nodes)
        {
            var path = PathOf(node);
            var text = string.Join("; ", faults.Describe(node.Number)) + "\n";
            if (File.Exists(path) && File.ReadAllText(path) == text)
                continue;
            File.WriteAllText(path + ".tmp", text);
            File.Move(path + ".tmp", path, overwrite: true);
        }
    }
}
