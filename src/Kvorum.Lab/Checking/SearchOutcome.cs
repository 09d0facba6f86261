namespace Kvorum.Lab.Checking;

/// <summary>
/// The result of searching one partition. Operations are named by their index in the partition's list.
/// </summary>
/// <param name="Verdict">The answer.</param>
/// <param name="Linearization">
/// If linearizable, a witness order (indeterminate operations that were left out are absent). Otherwise the
/// longest linearizable prefix the search found, in order.
/// </param>
/// <param name="Stuck">
/// If not linearizable, the operation that had to be linearized next (its completion is the earliest pending
/// one) but could not be, after the longest prefix; otherwise -1.
/// </param>
/// <param name="Candidates">
/// If not linearizable, the operations not in the prefix that were invoked before <paramref name="Stuck"/>
/// completed: every one of them could have been next, and none leads on. Includes <paramref name="Stuck"/>.
/// </param>
/// <param name="StateAfterPrefix">The model state after the prefix, formatted.</param>
/// <param name="Steps">Search steps taken, for diagnostics.</param>
internal sealed record SearchOutcome(
    Verdict Verdict,
    IReadOnlyList<int> Linearization,
    int Stuck,
    IReadOnlyList<int> Candidates,
    string StateAfterPrefix,
    long Steps);
