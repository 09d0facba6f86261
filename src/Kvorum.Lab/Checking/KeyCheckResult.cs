namespace Kvorum.Lab.Checking;

/// <summary>The verdict on one key, with the evidence when it is not linearizable.</summary>
/// <param name="Key">The key.</param>
/// <param name="Verdict">The answer for this key.</param>
/// <param name="OperationCount">Operations on the key, failed ones included.</param>
/// <param name="Linearization">
/// If linearizable, a witness order of the operations that took effect. Otherwise the longest linearizable
/// prefix found (for <see cref="Verdict.Unknown"/>, the longest found before the budget ran out).
/// </param>
/// <param name="StateAfterPrefix">The key's value after <paramref name="Linearization"/>, formatted.</param>
/// <param name="Stuck">
/// If not linearizable: the operation that had completed and could not be linearized after the prefix.
/// </param>
/// <param name="Candidates">
/// If not linearizable: the operations, not in the prefix, invoked before <paramref name="Stuck"/> completed
/// (it included). Together with the end of the prefix this is the window in which the history breaks: no
/// order of these operations after the prefix lets <paramref name="Stuck"/> take effect.
/// </param>
/// <param name="Concurrent">
/// If not linearizable: every operation that took or may have taken effect and whose interval overlaps
/// <paramref name="Stuck"/>'s, whether in the prefix or not, in invocation order. This is where to look.
/// </param>
/// <param name="Steps">Search steps taken.</param>
internal sealed record KeyCheckResult(
    string Key,
    Verdict Verdict,
    int OperationCount,
    IReadOnlyList<Operation> Linearization,
    string StateAfterPrefix,
    Operation? Stuck,
    IReadOnlyList<Operation> Candidates,
    IReadOnlyList<Operation> Concurrent,
    long Steps);
