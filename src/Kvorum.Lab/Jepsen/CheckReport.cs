using System.Globalization;
using System.Text;
using Kvorum.Lab.Checking;

namespace Kvorum.Lab.Jepsen;

/// <summary>The summary of a check: operations by outcome, faults, availability, the final state and the verdict.</summary>
/// <param name="history">The recorded history (microsecond times).</param>
/// <param name="faults">The faults the nemesis applied.</param>
/// <param name="healedAt">When everything was healed.</param>
/// <param name="endedAt">When the clients stopped.</param>
/// <param name="finals">The final value of each key that could be read.</param>
/// <param name="keys">The number of keys.</param>
/// <param name="result">The checker's result.</param>
/// <param name="replicas">Whether the members' histories agree after the heal.</param>
/// <param name="watched">What the watchers saw, checked against the history (<c>--workload watch</c>), or null.</param>
internal sealed class CheckReport(History history, IReadOnlyList<NemesisEvent> faults, TimeSpan healedAt, TimeSpan endedAt, IReadOnlyDictionary<string, string?> finals, int keys, CheckResult result, ReplicaAgreement replicas, WatchCheckResult? watched = null)
{
    /// <summary>Keys whose final value no put or CAS that may have happened wrote.</summary>
    public IReadOnlyList<string> UnexplainedFinals { get; } = [.. finals.Where(f => f.Value is not null && !history.Any(o =>
        o.Input.Kind != OperationKind.Get && o.Outcome != OperationOutcome.Failed && o.Input.Key == f.Key && o.Input.Value == f.Value)).Select(f => f.Key)];

    /// <summary>
    /// True when the verdict is linearizable, every key's final value was read and is explained, every member
    /// holds the same history, and the watchers (if any) saw slices of that history.
    /// </summary>
    public bool Passed => result.IsLinearizable && finals.Count == keys && UnexplainedFinals.Count == 0 && replicas.Agree && watched?.Passed != false;

    /// <summary>The percentage of whole seconds in [from, to) with at least one acknowledged write (put or CAS).</summary>
    /// <param name="from">Start.</param>
    /// <param name="to">End.</param>
    /// <returns>0..100.</returns>
    public double Availability(TimeSpan from, TimeSpan to)
    {
        var windows = (int)(to - from).TotalSeconds;
        if (windows <= 0)
            return 0;
        var start = (long)from.TotalMicroseconds;
        var good = history.Where(o => o.Outcome == OperationOutcome.Ok && o.Input.Kind != OperationKind.Get && o.CompletedAt >= start)
            .Select(o => (int)((o.CompletedAt!.Value - start) / 1_000_000)).Where(w => w < windows).Distinct().Count();
        return 100.0 * good / windows;
    }

    /// <summary>The printed summary.</summary>
    /// <returns>Several lines.</returns>
    public string Render()
    {
        var text = new StringBuilder();
        text.AppendLine("operations:");
        foreach (var kind in Enum.GetValues<OperationKind>())
        {
            var ops = history.Where(o => o.Input.Kind == kind).ToList();
            text.AppendLine(CultureInfo.InvariantCulture, $"  {KindName(kind),-4} {ops.Count,6}: {ops.Count(o => o.Outcome == OperationOutcome.Ok),6} ok ({Swaps(kind, ops)}), {ops.Count(o => o.Outcome == OperationOutcome.Failed),5} failed, {ops.Count(o => o.Outcome == OperationOutcome.Indeterminate),5} indeterminate");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"faults: {faults.Count} ({string.Join(", ", faults.GroupBy(f => f.Kind).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} ×{g.Count()}"))})");
        text.AppendLine(CultureInfo.InvariantCulture, $"availability: {Availability(TimeSpan.Zero, healedAt):0.0}% of one-second windows had an acknowledged write during the faults, {Availability(healedAt, endedAt):0.0}% after the heal");
        text.AppendLine(CultureInfo.InvariantCulture, $"final state: {finals.Count} of {keys} keys read; {(UnexplainedFinals.Count == 0 ? "every final value was written by an acknowledged or indeterminate operation" : "values no write explains: " + string.Join(", ", UnexplainedFinals))}");
        text.AppendLine(replicas.Describe());
        if (watched is not null)
            text.AppendLine(watched.Describe());
        text.Append(result.IsLinearizable
            ? $"linearizable: {history.Count} operations on {result.Keys.Count} keys checked in {result.Elapsed.TotalSeconds:0.00} s\n"
            : result.ToString());
        text.AppendLine(CultureInfo.InvariantCulture, $"verdict: {(Passed ? "PASS" : "FAIL")}");
        return text.ToString();
    }

    private static string KindName(OperationKind kind) => kind switch
    {
        OperationKind.Get => "get",
        OperationKind.Put => "put",
        _ => "cas",
    };

    private static string Swaps(OperationKind kind, List<Operation> ops) => kind == OperationKind.Cas
        ? $"{ops.Count(o => o.Outcome == OperationOutcome.Ok && o.Output!.Succeeded)} swapped"
        : kind == OperationKind.Get ? "read" : "written";
}
