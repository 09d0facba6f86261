namespace Kvorum.Lab.Checking;

/// <summary>
/// The request of one operation on one key.
/// Invariants: <see cref="Value"/> is non-null exactly for <see cref="OperationKind.Put"/> and
/// <see cref="OperationKind.Cas"/>; <see cref="Expected"/> is null for every kind but
/// <see cref="OperationKind.Cas"/>, where null means "the key is absent" (create-if-absent).
/// </summary>
/// <param name="Kind">What is asked.</param>
/// <param name="Key">The key; every operation touches exactly one key.</param>
/// <param name="Value">The value written by a put, or by a compare-and-set whose compare holds.</param>
/// <param name="Expected">For a compare-and-set, the value the key must hold for the write to happen.</param>
internal sealed record KvInput(OperationKind Kind, string Key, string? Value = null, string? Expected = null)
{
    /// <summary>A read of <paramref name="key"/>.</summary>
    public static KvInput Get(string key) => new(OperationKind.Get, key);

    /// <summary>An unconditional write of <paramref name="value"/> to <paramref name="key"/>.</summary>
    public static KvInput Put(string key, string value) => new(OperationKind.Put, key, value);

    /// <summary>Writes <paramref name="value"/> iff <paramref name="key"/> holds <paramref name="expected"/> (null: is absent).</summary>
    public static KvInput Cas(string key, string? expected, string value) => new(OperationKind.Cas, key, value, expected);

    /// <summary>Throws if the invariants in the type's summary do not hold.</summary>
    /// <exception cref="ArgumentException">The input is malformed.</exception>
    public void Validate()
    {
        if (Key is null)
            throw new ArgumentException("an operation needs a key");
        var needsValue = Kind is OperationKind.Put or OperationKind.Cas;
        if (needsValue != Value is not null)
            throw new ArgumentException($"{Kind} {(needsValue ? "needs" : "takes no")} value");
        if (Kind != OperationKind.Cas && Expected is not null)
            throw new ArgumentException($"{Kind} takes no expected value");
        if (!Enum.IsDefined(Kind))
            throw new ArgumentException($"unknown operation kind {(int)Kind}");
    }

    /// <summary>Formats as <c>get(k)</c>, <c>put(k, "v")</c> or <c>cas(k, "old" -> "new")</c>.</summary>
    public override string ToString() => Kind switch
    {
        OperationKind.Get => $"get({Key})",
        OperationKind.Put => $"put({Key}, {Quote(Value)})",
        _ => $"cas({Key}, {Quote(Expected)} -> {Quote(Value)})",
    };

    /// <summary>Quotes a value for reports; null (absent) prints as <c>nil</c>.</summary>
    internal static string Quote(string? value) => value is null ? "nil" : $"\"{value}\"";
}
