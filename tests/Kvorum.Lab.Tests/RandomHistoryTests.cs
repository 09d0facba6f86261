using System.Diagnostics;
using Kvorum.Lab.Checking;
using Xunit.Abstractions;

namespace Kvorum.Lab.Tests;

public class RandomHistoryTests(ITestOutputHelper output)
{
    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 40)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Accepts_every_history_of_a_linearizable_register(int seed)
    {
        var history = new SimulatedRegister { Operations = 600, Keys = 3, Clients = 8, IndeterminateRate = 0.03, FailedRate = 0.03 }.Generate(seed);
        var result = Linearizability.Check(history);
        Assert.True(result.IsLinearizable, result.ToString());
        foreach (var key in result.Keys)
            AssertWitness(history, key);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Rejects_the_same_history_with_one_impossible_read(int seed)
    {
        var history = new SimulatedRegister { Operations = 600, Keys = 3, Clients = 8, IndeterminateRate = 0.03, FailedRate = 0.03 }.Generate(seed);
        var mutated = SimulatedRegister.WithImpossibleRead(history, seed * 7);
        var result = Linearizability.Check(mutated);
        Assert.Equal(Verdict.NotLinearizable, result.Verdict);
        var violation = result.Violations.Single();
        Assert.Equal("never-written", violation.Stuck!.Output!.Value);
        if (seed == 1)
            output.WriteLine(result.ToString());
    }

    [Fact]
    public void Accepts_a_hot_key_under_heavy_concurrency()
    {
        var history = new SimulatedRegister { Operations = 2000, Keys = 1, Clients = 15, IndeterminateRate = 0.02 }.Generate(99);
        var result = Linearizability.Check(history);
        output.WriteLine(result.ToString());
        Assert.True(result.IsLinearizable, result.ToString());
    }

    [Fact]
    public void Checks_fifty_thousand_operations_on_five_keys_in_seconds()
    {
        var history = new SimulatedRegister { Operations = 50_000, Keys = 5, Clients = 10 }.Generate(2024);
        var watch = Stopwatch.StartNew();
        var result = Linearizability.Check(history, CheckOptions.Default with { Timeout = TimeSpan.FromSeconds(20) });
        output.WriteLine($"{history.Count} operations checked in {watch.Elapsed.TotalMilliseconds:0} ms");
        output.WriteLine(result.ToString());
        Assert.True(result.IsLinearizable, result.ToString());
    }

    /// <summary>The witness must respect real time, omit failed operations, and replay through the model.</summary>
    private static void AssertWitness(History history, KeyCheckResult key)
    {
        var state = RegisterModel.Instance.Initial;
        var placed = new HashSet<long>();
        foreach (var op in key.Linearization)
        {
            Assert.NotEqual(OperationOutcome.Failed, op.Outcome);
            state = op.Outcome == OperationOutcome.Ok
                ? (RegisterModel.Instance.TryStep(state, op.Input, op.Output!, out var next) ? next : throw new InvalidOperationException($"witness rejects {op}"))
                : RegisterModel.Instance.StepUnobserved(state, op.Input);
            placed.Add(op.Id);
        }
        // Every completed operation is placed, and nothing that completed before another was invoked comes after it.
        var position = key.Linearization.Select((op, i) => (op.Id, i)).ToDictionary(p => p.Id, p => p.i);
        var required = history.Where(op => op.Key == key.Key && op.Outcome == OperationOutcome.Ok).ToArray();
        Assert.All(required, op => Assert.Contains(op.Id, placed));
        foreach (var a in required)
        {
            foreach (var b in key.Linearization)
            {
                if (a.CompletedAt < b.InvokedAt && position[a.Id] > position[b.Id])
                    Assert.Fail($"{a} precedes {b} in real time but not in the witness");
            }
        }
    }
}
