using System.Text.Json.Serialization;

namespace Kvorum.Lab.Checking;

/// <summary>
/// One operation of a history, as one client saw it: what it asked, when, and what it learned.
/// Times are in any monotonic unit shared by the whole history (the recorder uses nanoseconds).
/// </summary>
/// <remarks>
/// Invariants, checked by the constructor:
/// <list type="bullet">
/// <item><see cref="OperationOutcome.Ok"/>: <see cref="CompletedAt"/> and <see cref="Output"/> are set and
/// <c>InvokedAt &lt;= CompletedAt</c>.</item>
/// <item><see cref="OperationOutcome.Failed"/> and <see cref="OperationOutcome.Indeterminate"/>:
/// <see cref="Output"/> is null. <see cref="CompletedAt"/> may record when the client gave up; the checker
/// ignores it (an indeterminate operation's completion is +infinity).</item>
/// </list>
/// </remarks>
internal sealed record Operation
{
    /// <summary>Creates an operation and checks its invariants.</summary>
    /// <exception cref="ArgumentException">An invariant does not hold.</exception>
    public Operation(long id, int process, KvInput input, long invokedAt, long? completedAt, OperationOutcome outcome, KvOutput? output)
    {
        ArgumentNullException.ThrowIfNull(input);
        input.Validate();
        if (!Enum.IsDefined(outcome))
            throw new ArgumentException($"op {id}: unknown outcome {(int)outcome}", nameof(outcome));
        if (outcome == OperationOutcome.Ok)
        {
            if (completedAt is null || output is null)
                throw new ArgumentException($"op {id}: a completed operation needs a completion time and an output");
            if (completedAt < invokedAt)
                throw new ArgumentException($"op {id}: completes at {completedAt}, before its invocation at {invokedAt}");
        }
        else if (output is not null)
        {
            throw new ArgumentException($"op {id}: a {outcome} operation has no output", nameof(output));
        }
        Id = id;
        Process = process;
        Input = input;
        InvokedAt = invokedAt;
        CompletedAt = completedAt;
        Outcome = outcome;
        Output = output;
    }

    /// <summary>Identifies the operation in reports; unique within a history.</summary>
    public long Id { get; }

    /// <summary>The client (Jepsen "process") that invoked it; a client has at most one operation pending.</summary>
    public int Process { get; }

    /// <summary>The request.</summary>
    public KvInput Input { get; }

    /// <summary>When the client sent the request.</summary>
    public long InvokedAt { get; }

    /// <summary>When the client received the response (or gave up); see the type's invariants.</summary>
    public long? CompletedAt { get; }

    /// <summary>What the client learned.</summary>
    public OperationOutcome Outcome { get; }

    /// <summary>The response, for <see cref="OperationOutcome.Ok"/> only.</summary>
    public KvOutput? Output { get; }

    /// <summary>The key the operation touches.</summary>
    [JsonIgnore]
    public string Key => Input.Key;

    /// <summary>A completed operation.</summary>
    public static Operation Ok(long id, int process, KvInput input, long invokedAt, long completedAt, KvOutput output) =>
        new(id, process, input, invokedAt, completedAt, OperationOutcome.Ok, output);

    /// <summary>An operation that definitely did not take effect.</summary>
    public static Operation Failed(long id, int process, KvInput input, long invokedAt, long completedAt) =>
        new(id, process, input, invokedAt, completedAt, OperationOutcome.Failed, null);

    /// <summary>An operation whose effect is unknown; <paramref name="gaveUpAt"/> is informational only.</summary>
    public static Operation Indeterminate(long id, int process, KvInput input, long invokedAt, long? gaveUpAt = null) =>
        new(id, process, input, invokedAt, gaveUpAt, OperationOutcome.Indeterminate, null);

    /// <summary>Formats as <c>#12 p3 [100..250] put(k, "v") -> ok</c>.</summary>
    public override string ToString()
    {
        var end = Outcome == OperationOutcome.Indeterminate ? "∞" : CompletedAt?.ToString() ?? "?";
        var result = Outcome switch
        {
            OperationOutcome.Failed => "failed",
            OperationOutcome.Indeterminate => "indeterminate",
            _ => Input.Kind switch
            {
                OperationKind.Get => KvInput.Quote(Output!.Value),
                OperationKind.Put => "ok",
                _ => Output!.Succeeded ? "swapped" : "compare failed",
            },
        };
        return $"#{Id} p{Process} [{InvokedAt}..{end}] {Input} -> {result}";
    }
}
