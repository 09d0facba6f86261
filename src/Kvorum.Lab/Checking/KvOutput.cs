namespace Kvorum.Lab.Checking;

/// <summary>The response of an operation that completed (<see cref="OperationOutcome.Ok"/>).</summary>
/// <param name="Value">For a get, the value read, or null if the key was absent; unused otherwise.</param>
/// <param name="Succeeded">For a compare-and-set, whether the compare held and the write happened; true for get and put.</param>
internal sealed record KvOutput(string? Value = null, bool Succeeded = true)
{
    /// <summary>The output of a put.</summary>
    public static readonly KvOutput Written = new();

    /// <summary>The output of a get that read <paramref name="value"/> (null: absent).</summary>
    public static KvOutput Read(string? value) => new(value);

    /// <summary>The output of a compare-and-set.</summary>
    public static KvOutput Swapped(bool succeeded) => new(null, succeeded);
}
