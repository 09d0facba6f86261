using System.Globalization;

namespace Kvorum.Lab.Faults;

/// <summary>
/// One applied fault, as stored in the state file. Partitions, isolation and cuts act on traffic between nodes
/// only (a client on the host still reaches every node, so it can watch the minority fail); loss and slow act
/// on all of a node's traffic.
/// </summary>
/// <param name="Id">Its number, shown by <c>status</c> and accepted by <c>heal ID</c>.</param>
/// <param name="Kind">What it does.</param>
/// <param name="Groups">Partition: the groups of node numbers.</param>
/// <param name="Node">Isolate, loss, slow: the node.</param>
/// <param name="From">Cut: the node whose packets are dropped.</param>
/// <param name="To">Cut: the node they were going to.</param>
/// <param name="OneWay">Cut: only From's packets to To are dropped.</param>
/// <param name="Percent">Loss: the share of packets dropped, 1..100.</param>
/// <param name="Rate">Slow: the tc rate, such as <c>1mbit</c>.</param>
internal sealed record Fault(
    int Id,
    FaultKind Kind,
    int[][]? Groups = null,
    int Node = 0,
    int From = 0,
    int To = 0,
    bool OneWay = false,
    int Percent = 0,
    string? Rate = null)
{
    /// <summary>A partition into <paramref name="groups"/>.</summary>
    /// <param name="groups">Node numbers per group.</param>
    /// <returns>The fault, without an id yet.</returns>
    public static Fault Partition(IEnumerable<IEnumerable<int>> groups) => new(0, FaultKind.Partition, Groups: [.. groups.Select(g => g.ToArray())]);

    /// <summary>Node <paramref name="node"/> cut off from every other node.</summary>
    public static Fault Isolate(int node) => new(0, FaultKind.Isolate, Node: node);

    /// <summary>The link from <paramref name="from"/> to <paramref name="to"/> cut (both ways unless <paramref name="oneWay"/>).</summary>
    /// <param name="from">The sender whose packets are dropped.</param>
    /// <param name="to">The receiver.</param>
    /// <param name="oneWay">Only that direction.</param>
    public static Fault Cut(int from, int to, bool oneWay) => new(0, FaultKind.Cut, From: from, To: to, OneWay: oneWay);

    /// <summary><paramref name="percent"/>% of node <paramref name="node"/>'s packets dropped.</summary>
    /// <param name="node">The node.</param>
    /// <param name="percent">1..100.</param>
    public static Fault Loss(int node, int percent) => new(0, FaultKind.Loss, Node: node, Percent: percent);

    /// <summary>Node <paramref name="node"/>'s outgoing traffic limited to <paramref name="rate"/>.</summary>
    /// <param name="node">The node.</param>
    /// <param name="rate">A tc rate (<c>1mbit</c>, <c>200kbit</c>).</param>
    public static Fault Slow(int node, string rate) => new(0, FaultKind.Slow, Node: node, Rate: rate);

    /// <summary>The node numbers this fault names.</summary>
    /// <returns>Every node mentioned.</returns>
    public IEnumerable<int> Nodes() => Kind switch
    {
        FaultKind.Partition => Groups!.SelectMany(g => g),
        FaultKind.Cut => [From, To],
        _ => [Node],
    };

    /// <summary>What the fault does, in the command's own words.</summary>
    /// <returns>For example <c>partition 1,2 / 3,4,5</c>.</returns>
    public override string ToString() => Kind switch
    {
        FaultKind.Partition => "partition " + string.Join(" / ", Groups!.Select(g => string.Join(',', g))),
        FaultKind.Isolate => $"isolate {Node}",
        FaultKind.Cut => OneWay ? $"cut {From}->{To} (one-way)" : $"cut {From}<->{To}",
        FaultKind.Loss => string.Create(CultureInfo.InvariantCulture, $"loss {Node} {Percent}%"),
        _ => $"slow {Node} {Rate}",
    };
}
