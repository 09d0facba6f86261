using Kvorum.Lab.Checking;

namespace Kvorum.Lab.Tests;

/// <summary>
/// Compares the checker with the definition of linearizability, applied by brute force to thousands of
/// tiny random histories, most of them not linearizable: values repeat (so compare-and-set meets ABA),
/// outputs are random, and some operations are indeterminate or failed.
/// </summary>
public class BruteForceOracleTests
{
    private static readonly string?[] Values = [null, "a", "b", "c"];

    [Fact]
    public void Agrees_with_brute_force_on_tiny_random_histories()
    {
        var random = new Random(12345);
        int linearizable = 0, total = 3000;
        for (var i = 0; i < total; i++)
        {
            var history = TinyHistory(random);
            var expected = BruteForce(history.Where(op => op.Outcome != OperationOutcome.Failed).ToList(), null);
            var actual = Linearizability.Check(history).Verdict;
            Assert.True(
                (expected ? Verdict.Linearizable : Verdict.NotLinearizable) == actual,
                $"brute force says {expected}, checker says {actual}:\n{string.Join('\n', history)}");
            linearizable += expected ? 1 : 0;
        }
        // Both kinds must be well represented for the comparison to mean anything.
        Assert.InRange(linearizable, total / 10, total * 9 / 10);
    }

    private static History TinyHistory(Random random)
    {
        var ops = new List<Operation>();
        var count = random.Next(1, 8);
        for (var id = 0; id < count; id++)
        {
            var invoked = random.Next(0, 20);
            var completed = invoked + random.Next(0, 8);
            var value = Values[random.Next(1, Values.Length)]!;
            var (input, output) = random.Next(3) switch
            {
                0 => (KvInput.Get("k"), KvOutput.Read(Values[random.Next(Values.Length)])),
                1 => (KvInput.Put("k", value), KvOutput.Written),
                _ => (KvInput.Cas("k", Values[random.Next(Values.Length)], value), KvOutput.Swapped(random.Next(2) == 0)),
            };
            ops.Add(random.Next(10) switch
            {
                0 => Operation.Indeterminate(id, id, input, invoked),
                1 => Operation.Failed(id, id, input, invoked, completed),
                _ => Operation.Ok(id, id, input, invoked, completed, output),
            });
        }
        return new History(ops);
    }

    /// <summary>
    /// True iff some order of the remaining operations, taking each completed one and any subset of the
    /// indeterminate ones, respects real time and the register's specification.
    /// </summary>
    private static bool BruteForce(List<Operation> remaining, string? state)
    {
        if (remaining.All(op => op.Outcome == OperationOutcome.Indeterminate))
            return true;
        foreach (var op in remaining)
        {
            // op may go next unless a completed operation still to be placed finished before op began.
            if (remaining.Any(other => other.Outcome == OperationOutcome.Ok && other.CompletedAt < op.InvokedAt))
                continue;
            var rest = remaining.Where(other => other != op).ToList();
            if (op.Outcome == OperationOutcome.Indeterminate)
            {
                if (BruteForce(rest, RegisterModel.Instance.StepUnobserved(state, op.Input)))
                    return true;
            }
            else if (RegisterModel.Instance.TryStep(state, op.Input, op.Output!, out var next) && BruteForce(rest, next))
            {
                return true;
            }
        }
        // An indeterminate operation may also never take effect.
        foreach (var op in remaining.Where(op => op.Outcome == OperationOutcome.Indeterminate))
        {
            if (BruteForce(remaining.Where(other => other != op).ToList(), state))
                return true;
        }
        return false;
    }
}
