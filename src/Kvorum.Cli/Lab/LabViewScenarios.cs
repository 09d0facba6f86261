using Kvorum.Cli.View;
using Kvorum.Lab;
using Kvorum.Lab.Scenarios;
using Kvorum.Lab.State;
using Kvorum.Lab.Viewing;

namespace Kvorum.Cli.Lab;

/// <summary>
/// The scenarios the lab's view starts, one at a time: each runs as <c>kvorum lab scenario NAME</c> in a lab of its
/// own beside the one that is up (<see cref="LabControl.StartScenario"/>), so that it brings up the members it needs
/// as it does from the command line; its lines go to the page, and the view follows its members while its lab is up.
/// </summary>
internal sealed class LabViewScenarios(string directory) : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private ScenarioProcess? _running;
    private Action<ScenarioLine> _relay = _ => { };

    /// <summary>Every scenario, as <c>kvorum lab scenario --list</c> shows them.</summary>
    public static IReadOnlyList<ScenarioChoice> Choices { get; } = [.. ScenarioCatalog.All.Select(s => new ScenarioChoice(s.Name, s.Summary))];

    /// <summary>Where the lines of the running scenario go.</summary>
    public void Narrate(Action<ScenarioLine> relay) => _relay = relay;

    /// <summary>Starts <paramref name="name"/>, unless one runs already.</summary>
    /// <returns>The line the page shows.</returns>
    /// <exception cref="CommandFailedException">No such scenario, one is running, or it could not start.</exception>
    public string Start(string? name)
    {
        var scenario = LabCommand.Guard(() => ScenarioCatalog.Find(name ?? ""));
        lock (_gate)
        {
            if (_running is { } running)
                throw new CommandFailedException($"scenario {running.Name} is running; stop it first");
            using var control = LabCommand.Guard(() => LabControl.Open(directory));
            var place = control.ScenarioPlace;
            if (LabStateStore.TryLoad(place.Directory) is not null)
                throw new CommandFailedException($"a scenario's lab is still up in {place.Directory}; `kvorum lab down --dir {place.Directory}` removes it");
            _relay(new ScenarioLine(scenario.Name, null, Running: true));
            var started = LabCommand.Guard(() => control.StartScenario(scenario.Name, line => _relay(new ScenarioLine(scenario.Name, line, Running: true))));
            _running = started;
            _ = FinishAsync(started);
            return $"scenario {scenario.Name} started";
        }
    }

    /// <summary>Stops the running scenario (its lab comes down with it).</summary>
    /// <returns>The line the page shows.</returns>
    /// <exception cref="CommandFailedException">None runs.</exception>
    public async Task<string> StopAsync()
    {
        ScenarioProcess? running;
        lock (_gate)
            running = _running;
        if (running is null)
            throw new CommandFailedException("no scenario is running");
        await running.StopAsync().ConfigureAwait(false);
        return $"scenario {running.Name} stopped";
    }

    /// <summary>The running scenario's members while its lab is up, else null.</summary>
    public IReadOnlyList<Uri>? Members()
    {
        lock (_gate)
        {
            if (_running is null)
                return null;
        }

        var place = ScenarioProcess.DirectoryOf(directory);
        var state = LabCommand.Guard(() => LabStateStore.TryLoad(place));
        return state is null ? null : [.. LabCommand.Guard(() => state.Layout(place)).Nodes.Select(n => n.ClientUrl)];
    }

    /// <summary>The running scenario's lab directory while it runs, else null.</summary>
    public string? Directory()
    {
        lock (_gate)
            return _running is null ? null : ScenarioProcess.DirectoryOf(directory);
    }

    private async Task FinishAsync(ScenarioProcess running)
    {
        var exit = await running.Exited.ConfigureAwait(false);
        lock (_gate)
            _running = null;
        running.Dispose();
        _relay(new ScenarioLine(running.Name, null, Running: false, exit));
    }

    /// <summary>Stops a scenario still running when the view ends.</summary>
    public async ValueTask DisposeAsync()
    {
        ScenarioProcess? running;
        lock (_gate)
            running = _running;
        if (running is not null)
            await running.StopAsync().ConfigureAwait(false);
    }
}
