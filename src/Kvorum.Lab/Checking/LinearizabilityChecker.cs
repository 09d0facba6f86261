using System.Diagnostics;

namespace Kvorum.Lab.Checking;

/// <summary>
/// Checks a key-value history for linearizability, key by key, against a per-key sequential model
/// (by default <see cref="RegisterModel"/>).
/// </summary>
/// <typeparam name="TState">The model's per-key state.</typeparam>
internal sealed class LinearizabilityChecker<TState>
{
    private readonly ISequentialModel<TState, KvInput, KvOutput> _model;

    /// <summary>Creates a checker for <paramref name="model"/>.</summary>
    public LinearizabilityChecker(ISequentialModel<TState, KvInput, KvOutput> model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
    }

    /// <summary>
    /// Checks <paramref name="history"/>. Failed operations are dropped (they never took effect);
    /// indeterminate ones may be linearized anywhere after their invocation, or left out.
    /// </summary>
    public CheckResult Check(History history, CheckOptions? options = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(history);
        options ??= CheckOptions.Default;
        var started = Stopwatch.GetTimestamp();
        var budget = new SearchBudget(options.Timeout, cancellation, options.MaxCacheBytesPerKey);
        var partitions = history.ByKey().OrderBy(kv => kv.Key, StringComparer.Ordinal).ToArray();
        var results = new KeyCheckResult[partitions.Length];
        Parallel.For(
            0,
            partitions.Length,
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.MaxDegreeOfParallelism) },
            i => results[i] = CheckKey(partitions[i].Key, partitions[i].Value, budget));
        return new CheckResult(results, Stopwatch.GetElapsedTime(started), options.ReportContext);
    }

    /// <summary>The operations whose intervals overlap <paramref name="stuck"/>'s, in invocation order.</summary>
    private static Operation[] ConcurrentWith(Operation stuck, Operation[] kept) =>
    [
        .. kept
            .Where(op => op != stuck
                && op.InvokedAt <= stuck.CompletedAt
                && (op.Outcome == OperationOutcome.Indeterminate || op.CompletedAt >= stuck.InvokedAt))
            .OrderBy(op => op.InvokedAt)
            .ThenBy(op => op.Id),
    ];

    private KeyCheckResult CheckKey(string key, IReadOnlyList<Operation> operations, SearchBudget budget)
    {
        // Invariant: kept[i] is the operation behind the search's operation i.
        var kept = operations.Where(op => op.Outcome != OperationOutcome.Failed).ToArray();
        var ops = Array.ConvertAll(kept, op => new ModelOperation<KvInput, KvOutput>(
            op.Input,
            op.Output,
            op.InvokedAt,
            op.Outcome == OperationOutcome.Ok ? op.CompletedAt : null));
        var outcome = new LinearizationSearch<TState, KvInput, KvOutput>(_model, ops).Run(budget);
        var stuck = outcome.Stuck >= 0 ? kept[outcome.Stuck] : null;
        return new KeyCheckResult(
            key,
            outcome.Verdict,
            operations.Count,
            [.. outcome.Linearization.Select(i => kept[i])],
            outcome.StateAfterPrefix,
            stuck,
            [.. outcome.Candidates.Select(i => kept[i])],
            stuck is null ? [] : ConcurrentWith(stuck, kept),
            outcome.Steps);
    }
}
