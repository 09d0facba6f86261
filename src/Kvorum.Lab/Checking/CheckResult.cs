using System.Globalization;
using System.Text;

namespace Kvorum.Lab.Checking;

/// <summary>The outcome of checking a whole history.</summary>
internal sealed class CheckResult
{
    private const int MaxConcurrentShown = 20;
    private readonly int _reportContext;

    internal CheckResult(IReadOnlyList<KeyCheckResult> keys, TimeSpan elapsed, int reportContext)
    {
        Keys = keys;
        Elapsed = elapsed;
        _reportContext = reportContext;
        Verdict = keys.Any(k => k.Verdict == Verdict.NotLinearizable) ? Verdict.NotLinearizable
            : keys.Any(k => k.Verdict == Verdict.Unknown) ? Verdict.Unknown
            : Verdict.Linearizable;
    }

    /// <summary>
    /// <see cref="Verdict.NotLinearizable"/> if any key is not; otherwise <see cref="Verdict.Unknown"/> if any
    /// key is undecided; otherwise <see cref="Verdict.Linearizable"/>.
    /// </summary>
    public Verdict Verdict { get; }

    /// <summary>True iff the whole history is linearizable.</summary>
    public bool IsLinearizable => Verdict == Verdict.Linearizable;

    /// <summary>One result per key, ordered by key.</summary>
    public IReadOnlyList<KeyCheckResult> Keys { get; }

    /// <summary>How long the check took.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>The keys that are not linearizable.</summary>
    public IEnumerable<KeyCheckResult> Violations => Keys.Where(k => k.Verdict == Verdict.NotLinearizable);

    /// <summary>A readable report: the verdict, a line per key and, for each violation, its window.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        var ops = Keys.Sum(k => k.OperationCount);
        sb.Append(CultureInfo.InvariantCulture, $"{Name(Verdict)}: {ops} operations on {Keys.Count} {(Keys.Count == 1 ? "key" : "keys")}, checked in {Elapsed.TotalSeconds:0.000} s\n");
        foreach (var key in Keys)
        {
            sb.Append(CultureInfo.InvariantCulture, $"key {key.Key}: {Name(key.Verdict)} ({key.OperationCount} operations, {key.Steps} steps)\n");
            if (key.Verdict == Verdict.NotLinearizable)
                AppendWindow(sb, key);
            else if (key.Verdict == Verdict.Unknown)
                sb.Append(CultureInfo.InvariantCulture, $"  search budget (time or memory) ran out; longest linearizable prefix found: {key.Linearization.Count} operations\n");
        }
        return sb.ToString();
    }

    private void AppendWindow(StringBuilder sb, KeyCheckResult key)
    {
        var prefix = key.Linearization;
        sb.Append(CultureInfo.InvariantCulture, $"  longest linearizable prefix: {prefix.Count} operations, leaving the key at {key.StateAfterPrefix}");
        var shown = Math.Min(_reportContext, prefix.Count);
        if (shown == 0)
            sb.Append('\n');
        else
            sb.Append(CultureInfo.InvariantCulture, $"; its last {shown}:\n");
        for (var i = prefix.Count - shown; i < prefix.Count; i++)
            sb.Append(CultureInfo.InvariantCulture, $"    {prefix[i]}\n");
        sb.Append(CultureInfo.InvariantCulture, $"  then this operation cannot take effect:\n    {key.Stuck}\n");
        if (key.Concurrent.Count == 0)
        {
            sb.Append("  no other operation was concurrent with it\n");
            return;
        }
        sb.Append("  operations concurrent with it (* = in the prefix above):\n");
        var inPrefix = prefix.ToHashSet();
        foreach (var op in key.Concurrent.Take(MaxConcurrentShown))
            sb.Append(CultureInfo.InvariantCulture, $"  {(inPrefix.Contains(op) ? '*' : ' ')} {op}\n");
        if (key.Concurrent.Count > MaxConcurrentShown)
            sb.Append(CultureInfo.InvariantCulture, $"    ... and {key.Concurrent.Count - MaxConcurrentShown} more\n");
    }

    private static string Name(Verdict verdict) => verdict switch
    {
        Verdict.Linearizable => "linearizable",
        Verdict.NotLinearizable => "NOT LINEARIZABLE",
        _ => "unknown",
    };
}
