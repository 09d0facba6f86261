namespace Kvorum.Lab.Scenarios;

/// <summary>A narrated experiment: sets up faults, runs a workload, checks what theory predicts.</summary>
internal interface IScenario
{
    /// <summary>The name used on the command line (<c>leader-isolation</c>).</summary>
    string Name { get; }

    /// <summary>One line: what it shows.</summary>
    string Summary { get; }

    /// <summary>Runs the scenario; the context brings the lab up and records the expectations.</summary>
    /// <param name="context">The lab, the clock, narration and expectations.</param>
    Task RunAsync(ScenarioContext context);
}
