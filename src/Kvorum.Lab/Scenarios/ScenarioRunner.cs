namespace Kvorum.Lab.Scenarios;

/// <summary>Runs one scenario from start to verdict and always takes its lab down (unless kept).</summary>
internal static class ScenarioRunner
{
    /// <summary>Runs <paramref name="scenario"/> and prints its verdict.</summary>
    /// <param name="scenario">The scenario.</param>
    /// <param name="options">Options.</param>
    /// <param name="output">Narration.</param>
    /// <param name="cancellation">Ctrl-C.</param>
    /// <returns>True when every prediction held.</returns>
    public static async Task<bool> RunAsync(IScenario scenario, ScenarioOptions options, TextWriter output, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(output);
        output.WriteLine($"=== scenario {scenario.Name}: {scenario.Summary}");
        var context = new ScenarioContext(options, output, cancellation);
        await using (context.ConfigureAwait(false))
        {
            try
            {
                await scenario.RunAsync(context).ConfigureAwait(false);
            }
            catch (LabException e)
            {
                context.Expect("the scenario runs to its end", false, e.Message);
            }
#pragma warning disable CA1031 // Whatever broke the scenario is its verdict; the lab still comes down below.
            catch (Exception e) when (e is not OperationCanceledException || !cancellation.IsCancellationRequested)
#pragma warning restore CA1031
            {
                context.Expect("the scenario runs to its end", false, $"{e.GetType().Name}: {e.Message}");
            }
        }

        var held = context.Expectations.Count(e => e.Held);
        var passed = held == context.Expectations.Count && held > 0;
        output.WriteLine($"=== {scenario.Name}: {(passed ? "PASSED" : "FAILED")} — {held} of {context.Expectations.Count} predictions held ({context.Now.TotalSeconds:0.0} s)");
        foreach (var e in context.Expectations.Where(e => !e.Held))
            output.WriteLine($"    did not hold: {e.Prediction} ({e.Observed})");
        return passed;
    }
}
