namespace Kvorum.Lab.Checking;

/// <summary>
/// The sequential specification of one key of the store: a register holding a string, or nothing
/// (null, "absent"). The state is the current value.
/// </summary>
/// <remarks>
/// <para>
/// <b>Compare-and-set is modelled as compare on value.</b> The real client implements CAS as an etcd
/// <c>Txn</c> whose compare is on the key's <c>mod_revision</c> (read the key, then "if mod_revision is
/// still R, put"). The checker cannot know revisions, because the store assigns them, so here
/// <c>cas(key, expected, new)</c> succeeds iff the current value equals <c>expected</c> (null: the key is
/// absent), and then writes <c>new</c>. The two agree whenever every written value is unique, which the
/// workload generator ensures; with repeated values a value compare accepts an "ABA" swap that a revision
/// compare would refuse, so this model can only be more permissive, never report a false violation for that
/// reason. A revision-aware model would use a state of (value, mod_revision), take the revision from each
/// write's response header and compare on it; it plugs in through <see cref="ISequentialModel{TState, TInput, TOutput}"/>.
/// </para>
/// <para>Deletes are not modelled yet.</para>
/// </remarks>
internal sealed class RegisterModel : ISequentialModel<string?, KvInput, KvOutput>
{
    /// <summary>The one instance; the model has no state of its own.</summary>
    public static readonly RegisterModel Instance = new();

    private RegisterModel()
    {
    }

    /// <summary>Every key starts absent.</summary>
    public string? Initial => null;

    /// <inheritdoc />
    public bool TryStep(string? state, KvInput input, KvOutput output, out string? next)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        next = state;
        switch (input.Kind)
        {
            case OperationKind.Get:
                return string.Equals(output.Value, state, StringComparison.Ordinal);
            case OperationKind.Put:
                next = input.Value;
                return true;
            default:
                var holds = string.Equals(state, input.Expected, StringComparison.Ordinal);
                if (holds)
                    next = input.Value;
                return holds == output.Succeeded;
        }
    }

    /// <inheritdoc />
    public string? StepUnobserved(string? state, KvInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.Kind switch
        {
            OperationKind.Get => state,
            OperationKind.Put => input.Value,
            _ => string.Equals(state, input.Expected, StringComparison.Ordinal) ? input.Value : state,
        };
    }

    /// <inheritdoc />
    public bool IsReadOnly(KvInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.Kind == OperationKind.Get;
    }

    /// <inheritdoc />
    public bool IsReadOnly(KvInput input, KvOutput output)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        return input.Kind == OperationKind.Get || (input.Kind == OperationKind.Cas && !output.Succeeded);
    }

    /// <inheritdoc />
    public string Describe(string? state) => KvInput.Quote(state);
}
