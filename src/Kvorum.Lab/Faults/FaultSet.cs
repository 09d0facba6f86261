namespace Kvorum.Lab.Faults;

/// <summary>
/// The combined effect of the faults in force: which directed links drop packets, and each node's loss and
/// bandwidth limit. Faults add up; healing one recomputes the rest.
/// </summary>
/// <param name="faults">The faults in force.</param>
internal sealed class FaultSet(IReadOnlyList<Fault> faults)
{
    /// <summary>The faults in force.</summary>
    public IReadOnlyList<Fault> Faults { get; } = faults;

    /// <summary>True when packets from <paramref name="from"/> to <paramref name="to"/> are dropped.</summary>
    /// <param name="from">Sending node.</param>
    /// <param name="to">Receiving node.</param>
    /// <returns>Whether that direction is cut.</returns>
    public bool Blocks(int from, int to)
    {
        if (from == to)
            return false;
        foreach (var fault in Faults)
        {
            var blocked = fault.Kind switch
            {
                FaultKind.Partition => GroupOf(fault, from) != GroupOf(fault, to),
                FaultKind.Isolate => fault.Node == from || fault.Node == to,
                FaultKind.Cut => (fault.From == from && fault.To == to) || (!fault.OneWay && fault.From == to && fault.To == from),
                _ => false,
            };
            if (blocked)
                return true;
        }

        return false;
    }

    /// <summary>The share of <paramref name="node"/>'s packets dropped at random (the largest loss fault on it).</summary>
    /// <returns>0..100.</returns>
    public int LossPercent(int node) => Faults.Where(f => f.Kind == FaultKind.Loss && f.Node == node).Select(f => f.Percent).DefaultIfEmpty(0).Max();

    /// <summary>The bandwidth limit on <paramref name="node"/>'s outgoing traffic (the last slow fault on it).</summary>
    /// <returns>A tc rate, or null for none.</returns>
    public string? Rate(int node) => Faults.LastOrDefault(f => f.Kind == FaultKind.Slow && f.Node == node)?.Rate;

    /// <summary>The faults that involve <paramref name="node"/>, for the status table.</summary>
    /// <returns>Short descriptions.</returns>
    public IEnumerable<string> Describe(int node) => Faults.Where(f => f.Nodes().Contains(node) || f.Kind == FaultKind.Partition).Select(f => $"#{f.Id} {f}");

    /// <summary>Checks that every node a fault names exists and the fault makes sense.</summary>
    /// <param name="fault">The fault to add.</param>
    /// <param name="nodeCount">The number of nodes.</param>
    /// <exception cref="LabException">It does not.</exception>
    public static void Validate(Fault fault, int nodeCount)
    {
        ArgumentNullException.ThrowIfNull(fault);
        foreach (var node in fault.Nodes())
        {
            if (node < 1 || node > nodeCount)
                throw new LabException($"no node {node}: the lab has nodes 1..{nodeCount}");
        }

        switch (fault.Kind)
        {
            case FaultKind.Partition:
                if (fault.Groups!.Length < 2 || fault.Groups.Any(g => g.Length == 0))
                    throw new LabException("a partition needs at least two non-empty groups, like 1,2 / 3,4,5");
                int[] all = [.. fault.Groups.SelectMany(g => g)];
                if (all.Distinct().Count() != all.Length)
                    throw new LabException("a node appears in two groups of the partition");
                break;
            case FaultKind.Cut when fault.From == fault.To:
                throw new LabException("cut needs two different nodes");
            case FaultKind.Loss when fault.Percent is < 1 or > 100:
                throw new LabException($"loss must be between 1 and 100 percent, got {fault.Percent}");
            case FaultKind.Slow when string.IsNullOrWhiteSpace(fault.Rate) || !fault.Rate.All(c => char.IsAsciiLetterOrDigit(c) || c == '.'):
                throw new LabException($"slow needs a tc rate such as 1mbit or 500kbit, got '{fault.Rate}'");
        }
    }

    // Nodes a partition does not list form one more group together.
    private static int GroupOf(Fault partition, int node)
    {
        for (var g = 0; g < partition.Groups!.Length; g++)
        {
            if (partition.Groups[g].Contains(node))
                return g;
        }

        return -1;
    }
}
