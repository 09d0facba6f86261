using Kvorum.Lab.Checking;

namespace Kvorum.Lab.Tests;

/// <summary>Writes hand-made histories tersely: ids are assigned in order, one key unless named.</summary>
internal sealed class HistoryScript
{
    private readonly List<Operation> _ops = [];

    public string Key { get; init; } = "k";

    public HistoryScript Put(int process, long invoked, long completed, string value, string? key = null) =>
        Add(Operation.Ok(_ops.Count, process, KvInput.Put(key ?? Key, value), invoked, completed, KvOutput.Written));

    public HistoryScript Get(int process, long invoked, long completed, string? read, string? key = null) =>
        Add(Operation.Ok(_ops.Count, process, KvInput.Get(key ?? Key), invoked, completed, KvOutput.Read(read)));

    public HistoryScript Cas(int process, long invoked, long completed, string? expected, string value, bool succeeded, string? key = null) =>
        Add(Operation.Ok(_ops.Count, process, KvInput.Cas(key ?? Key, expected, value), invoked, completed, KvOutput.Swapped(succeeded)));

    public HistoryScript Indeterminate(int process, long invoked, KvInput input) =>
        Add(Operation.Indeterminate(_ops.Count, process, input, invoked, invoked + 5));

    public HistoryScript Failed(int process, long invoked, long completed, KvInput input) =>
        Add(Operation.Failed(_ops.Count, process, input, invoked, completed));

    public History Build() => new(_ops);

    public CheckResult Check() => Linearizability.Check(Build());

    private HistoryScript Add(Operation op)
    {
        _ops.Add(op);
        return this;
    }
}
