using System.Collections;

namespace Kvorum.Lab.Checking;

/// <summary>
/// A recorded history: every operation the clients invoked, in any order.
/// Invariant: operation ids are unique.
/// </summary>
internal sealed class History : IReadOnlyList<Operation>
{
    private readonly Operation[] _operations;

    /// <summary>Creates a history.</summary>
    /// <exception cref="ArgumentException">Two operations share an id.</exception>
    public History(IEnumerable<Operation> operations)
    {
        ArgumentNullException.ThrowIfNull(operations);
        _operations = [.. operations];
        var ids = new HashSet<long>();
        foreach (var op in _operations)
        {
            ArgumentNullException.ThrowIfNull(op, nameof(operations));
            if (!ids.Add(op.Id))
                throw new ArgumentException($"operation id {op.Id} appears twice", nameof(operations));
        }
    }

    /// <summary>The number of operations.</summary>
    public int Count => _operations.Length;

    /// <summary>The operation at <paramref name="index"/>, in recorded order.</summary>
    public Operation this[int index] => _operations[index];

    /// <summary>
    /// The operations of each key, each list in recorded order. A key-value map is linearizable iff each
    /// key is (linearizability is compositional, Herlihy and Wing 1990), so the checker checks keys apart.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<Operation>> ByKey()
    {
        var byKey = new Dictionary<string, List<Operation>>(StringComparer.Ordinal);
        foreach (var op in _operations)
        {
            if (!byKey.TryGetValue(op.Key, out var list))
                byKey[op.Key] = list = [];
            list.Add(op);
        }
        return byKey.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<Operation>)kv.Value, StringComparer.Ordinal);
    }

    /// <inheritdoc />
    public IEnumerator<Operation> GetEnumerator() => ((IEnumerable<Operation>)_operations).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
