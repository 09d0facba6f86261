using Kvorum.Lab.Faults;
using Kvorum.Lab.Host;
using Kvorum.Lab.State;
using Kvorum.Lab.Topology;

namespace Kvorum.Lab;

/// <summary>Faults: add one, heal one or all. Each change rewrites every node's nft table and qdisc.</summary>
internal sealed partial class LabControl
{
    /// <summary>Applies <paramref name="fault"/> on top of the faults in force.</summary>
    /// <param name="fault">The fault (its id is assigned here).</param>
    /// <returns>The fault as stored, with its id.</returns>
    /// <exception cref="LabException">It names a node that does not exist, or nft/tc failed.</exception>
    public Fault AddFault(Fault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        FaultSet.Validate(fault, NodeCount);
        var stored = fault with { Id = _state.NextFaultId++ };
        _state.Faults.Add(stored);
        LabStateStore.Save(Directory, _state);
        ApplyFaults();
        return stored;
    }

    /// <summary>Removes fault <paramref name="id"/>, or every fault when null.</summary>
    /// <param name="id">The fault's id, or null for all.</param>
    /// <returns>The faults removed.</returns>
    /// <exception cref="LabException">No fault has that id.</exception>
    public IReadOnlyList<Fault> Heal(int? id = null)
    {
        Fault[] removed = id is null ? [.. _state.Faults] : [.. _state.Faults.Where(f => f.Id == id)];
        if (id is not null && removed.Length == 0)
            throw new LabException($"no fault #{id} is in force; `kvorum lab status` lists them");
        _state.Faults.RemoveAll(f => removed.Contains(f));
        LabStateStore.Save(Directory, _state);
        ApplyFaults();
        return removed;
    }

    private void ApplyFaults()
    {
        // Every namespace at once: the fault is in force only when the last node has its rules.
        var faults = _state.FaultSet();
        try
        {
            Parallel.ForEach(Layout.Nodes, node => NetworkBuilder.ApplyFaults(Layout, faults, node));
        }
        catch (AggregateException e) when (e.InnerExceptions.FirstOrDefault(i => i is LabException) is LabException first)
        {
            throw new LabException(first.Message, e);
        }
    }
}
