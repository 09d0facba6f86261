using Kvorum.Lab.Checking;

namespace Kvorum.Lab.Tests;

/// <summary>
/// Generates histories that are linearizable by construction: clients issue random operations on a map of
/// registers, each operation takes effect atomically at a random instant inside its interval, and its
/// output is what the map held at that instant. Indeterminate operations take effect at a random instant
/// after their invocation (possibly after the client gave up) or never; failed ones never do.
/// </summary>
internal sealed record SimulatedRegister
{
    public int Operations { get; init; } = 1000;
    public int Keys { get; init; } = 5;
    public int Clients { get; init; } = 10;
    public double IndeterminateRate { get; init; } = 0.01;
    public double FailedRate { get; init; } = 0.01;
    public int MaxLatency { get; init; } = 30;

    public History Generate(int seed)
    {
        var random = new Random(seed);
        var clock = new long[Clients];   // when each client is free again
        var process = new int[Clients];  // a client that saw an indeterminate result reconnects as a new process
        for (var c = 0; c < Clients; c++)
            process[c] = c;
        var nextProcess = Clients;
        var written = new List<string>[Keys]; // values written per key, in generation order, for CAS guesses
        for (var k = 0; k < Keys; k++)
            written[k] = [];

        var drafts = new List<Draft>(Operations);
        for (var id = 0; id < Operations; id++)
        {
            var c = random.Next(Clients);
            var k = random.Next(Keys);
            var key = $"k{k}";
            var invoked = clock[c] + random.Next(0, 5);
            var completed = invoked + random.Next(1, MaxLatency);
            var input = random.Next(4) switch
            {
                0 or 1 => KvInput.Get(key),
                2 => KvInput.Put(key, $"v{id}"),
                _ => KvInput.Cas(key, Guess(random, written[k]), $"v{id}"),
            };
            if (input.Value is not null)
                written[k].Add(input.Value);
            var roll = random.NextDouble();
            var outcome = roll < IndeterminateRate ? OperationOutcome.Indeterminate
                : roll < IndeterminateRate + FailedRate ? OperationOutcome.Failed
                : OperationOutcome.Ok;
            // The instant it takes effect, as a fraction past the invocation; +infinity if never.
            var at = outcome switch
            {
                OperationOutcome.Ok => invoked + (random.NextDouble() * (completed - invoked)),
                OperationOutcome.Indeterminate when random.Next(2) == 0 => invoked + (random.NextDouble() * 3 * MaxLatency),
                _ => double.PositiveInfinity,
            };
            drafts.Add(new Draft(id, process[c], input, invoked, completed, outcome, at));
            clock[c] = completed;
            if (outcome == OperationOutcome.Indeterminate)
                process[c] = nextProcess++;
        }

        // Apply in effect order; ties are broken by id, which is as good as any order inside both intervals.
        var outputs = new KvOutput?[Operations];
        var map = new Dictionary<string, string?>();
        foreach (var d in drafts.Where(d => !double.IsPositiveInfinity(d.At)).OrderBy(d => d.At).ThenBy(d => d.Id))
        {
            var current = map.GetValueOrDefault(d.Input.Key);
            RegisterModel.Instance.TryStep(current, d.Input, Observe(current, d.Input), out var next);
            map[d.Input.Key] = next;
            outputs[d.Id] = Observe(current, d.Input);
        }

        return new History(drafts.Select(d => d.Outcome switch
        {
            OperationOutcome.Ok => Operation.Ok(d.Id, d.Process, d.Input, d.Invoked, d.Completed, outputs[d.Id]!),
            OperationOutcome.Failed => Operation.Failed(d.Id, d.Process, d.Input, d.Invoked, d.Completed),
            _ => Operation.Indeterminate(d.Id, d.Process, d.Input, d.Invoked, d.Completed),
        }));
    }

    /// <summary>Replaces the output of the <paramref name="nth"/> completed read with a value nobody wrote.</summary>
    public static History WithImpossibleRead(History history, int nth)
    {
        var reads = history.Where(op => op.Outcome == OperationOutcome.Ok && op.Input.Kind == OperationKind.Get).ToArray();
        var victim = reads[nth % reads.Length];
        return new History(history.Select(op => op == victim
            ? Operation.Ok(op.Id, op.Process, op.Input, op.InvokedAt, op.CompletedAt!.Value, KvOutput.Read("never-written"))
            : op));
    }

    private static KvOutput Observe(string? current, KvInput input) => input.Kind switch
    {
        OperationKind.Get => KvOutput.Read(current),
        OperationKind.Put => KvOutput.Written,
        _ => KvOutput.Swapped(string.Equals(current, input.Expected, StringComparison.Ordinal)),
    };

    /// <summary>A recent value of the key, usually the latest: CAS then succeeds often but not always.</summary>
    private static string? Guess(Random random, List<string> written) =>
        written.Count == 0 || random.Next(10) == 0 ? null : written[Math.Max(0, written.Count - 1 - random.Next(3))];

    private sealed record Draft(int Id, int Process, KvInput Input, long Invoked, long Completed, OperationOutcome Outcome, double At);
}
