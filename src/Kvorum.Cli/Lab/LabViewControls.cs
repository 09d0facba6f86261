using System.Text.Json;
using Kvorum.Cli.Client;
using Kvorum.Cli.View;
using Kvorum.Lab;
using Kvorum.Lab.Faults;
using Kvorum.Lab.State;

namespace Kvorum.Cli.Lab;

/// <summary>
/// The view's controls over the lab in <paramref name="directory"/>: each button opens the lab as
/// <c>kvorum lab …</c> does and runs the same act (<see cref="LabCommand.ProcessVerbs"/>, <c>AddFault</c>,
/// <c>Heal</c>), answering with the line that command prints; the picture is the lab's own record of its processes
/// and faults (<see cref="LabControl.Picture"/>). The narrated scenarios run beside the lab (<see cref="LabViewScenarios"/>);
/// while one runs, the picture and the members followed are its lab's, and the fault buttons are refused, since
/// they would act on a lab the page does not show and spoil the scenario's predictions.
/// </summary>
internal sealed class LabViewControls(string directory) : IViewControls, IAsyncDisposable
{
    private readonly LabViewScenarios _scenarios = new(directory);

    private static readonly JsonSerializerOptions PictureJson = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <inheritdoc/>
    public IReadOnlyList<string> Actions { get; } = ["kill", "start", "pause", "resume", "isolate", "partition", "cut", "heal", "scenario", "stop-scenario"];

    /// <inheritdoc/>
    public IReadOnlyList<ScenarioChoice> Scenarios => LabViewScenarios.Choices;

    /// <inheritdoc/>
    public Task<string> RunAsync(ControlRequest request, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Action == "scenario")
            return Task.FromResult(_scenarios.Start(request.Scenario));
        if (request.Action == "stop-scenario")
            return _scenarios.StopAsync();
        if (_scenarios.Directory() is not null)
            throw new CommandFailedException("a scenario is running; stop it first");
        using var control = LabCommand.Guard(() => LabControl.Open(directory));
        var said = LabCommand.Guard(() => Run(control, request));
        return Task.FromResult(said);
    }

    private static string Run(LabControl control, ControlRequest request)
    {
        if (LabCommand.ProcessVerbs.FirstOrDefault(v => v.Name == request.Action) is { Name: not null } verb)
            return $"{control.Layout.Node(request.Node).Name}: {verb.Act(control, request.Node)}";
        if (request.Action == "heal")
            return LabCommand.HealedLine(control.Heal());
        var fault = request.Action switch
        {
            "isolate" => Fault.Isolate(request.Node),
            "partition" => Fault.Partition(request.Groups ?? []),
            "cut" => Fault.Cut(request.From, request.To, request.OneWay),
            _ => throw new LabException($"no such control: {request.Action}"),
        };
        return LabCommand.AppliedLine(control.AddFault(fault));
    }

    /// <inheritdoc/>
    public string? Picture()
    {
        if (LabStateStore.TryLoad(directory) is null)
            return null;
        var shown = _scenarios.Directory() is { } scenario && LabStateStore.TryLoad(scenario) is not null ? scenario : directory;
        using var control = LabCommand.Guard(() => LabControl.Open(shown));
        var picture = control.Picture();
        return JsonSerializer.Serialize(new
        {
            nodes = picture.Nodes.Select(n => new { number = n.Number, name = n.Name, endpoint = EndpointParser.Display(n.ClientUrl), process = n.Process, faults = n.Faults }),
            faults = picture.Faults,
            blocked = picture.Blocked,
        }, PictureJson);
    }

    /// <inheritdoc/>
    public IReadOnlyList<Uri>? Members() => _scenarios.Members();

    /// <inheritdoc/>
    public void Narrate(Action<ScenarioLine> relay) => _scenarios.Narrate(relay);

    /// <summary>Stops a scenario still running.</summary>
    public ValueTask DisposeAsync() => _scenarios.DisposeAsync();
}
