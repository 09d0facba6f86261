using System.Globalization;
using Kvorum.Cli.Output;
using Kvorum.Lab;

namespace Kvorum.Cli.Lab;

/// <summary>Renders <c>kvorum lab status</c>.</summary>
internal static class LabStatusTable
{
    /// <summary>The table, one line per node.</summary>
    /// <param name="rows">The status rows.</param>
    /// <returns>The text, ending in a newline.</returns>
    public static string Render(IReadOnlyList<NodeRow> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var table = new TextTable("NODE", "NAMESPACE", "ADDRESS", "PID", "PROCESS", "ROLE", "TERM", "LEADER", "COMMIT", "APPLIED", "FAULTS");
        foreach (var r in rows)
        {
            var role = r.Status?.Role ?? (r.Process == "running" ? "unreachable" : "-");
            table.AddRow(
                r.Node.Name,
                r.Node.Namespace,
                r.Node.Address.ToString(),
                r.Pid == 0 ? "-" : r.Pid.ToString(CultureInfo.InvariantCulture),
                r.Process,
                role,
                r.Status?.Term.ToString(CultureInfo.InvariantCulture) ?? "-",
                r.LeaderNode is { } l ? $"n{l}" : r.Status is null ? "-" : "none",
                r.Status?.CommitIndex.ToString(CultureInfo.InvariantCulture) ?? "-",
                r.Status?.AppliedIndex.ToString(CultureInfo.InvariantCulture) ?? "-",
                r.Faults.Count == 0 ? "-" : string.Join("; ", r.Faults));
        }

        return table.ToString();
    }
}
