namespace Kvorum.Lab.Checking;

/// <summary>
/// A sequential specification: what one object (here, one key) does when operations are applied to it
/// one at a time. The checker asks whether a concurrent history can be explained by some order of its
/// operations that respects real time and that this specification accepts.
/// </summary>
/// <typeparam name="TState">
/// The object's state. It must have value equality and a matching hash (<see cref="EqualityComparer{T}.Default"/>
/// is used): the search caches (linearized set, state) pairs and relies on equal states being interchangeable.
/// States are treated as immutable values.
/// </typeparam>
/// <typeparam name="TInput">An operation's request.</typeparam>
/// <typeparam name="TOutput">An operation's response.</typeparam>
internal interface ISequentialModel<TState, TInput, TOutput>
{
    /// <summary>The state before any operation.</summary>
    TState Initial { get; }

    /// <summary>
    /// Applies <paramref name="input"/> to <paramref name="state"/>. Returns false if the specification could
    /// not have answered <paramref name="output"/> in that state; otherwise sets <paramref name="next"/>.
    /// </summary>
    bool TryStep(TState state, TInput input, TOutput output, out TState next);

    /// <summary>
    /// Applies <paramref name="input"/> to <paramref name="state"/> when the response is unknown (an
    /// indeterminate operation that the search chose to let take effect). Must be deterministic.
    /// </summary>
    TState StepUnobserved(TState state, TInput input);

    /// <summary>
    /// True if <paramref name="input"/> never changes the state, whatever the response; an indeterminate
    /// operation of that kind explains nothing and constrains nothing, so the checker drops it.
    /// </summary>
    bool IsReadOnly(TInput input);

    /// <summary>
    /// True if an operation that answered <paramref name="output"/> to <paramref name="input"/> leaves the state
    /// unchanged in every state that accepts it (a read; a compare-and-set whose compare failed). The search
    /// linearizes such an operation as soon as it is accepted and never tries it anywhere else, which is
    /// sound (see <see cref="LinearizationSearch{TState, TInput, TOutput}"/>) and prunes most of the search.
    /// Answering false is always safe, only slower.
    /// </summary>
    bool IsReadOnly(TInput input, TOutput output);

    /// <summary>Formats a state for reports.</summary>
    string Describe(TState state);
}
