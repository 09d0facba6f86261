using System.Text.Json;
using Kvorum.Cli.Client;
using Kvorum.Cli.View;

namespace Kvorum.Cli.Cluster;

/// <summary>
/// The view's controls under <c>kvorum cluster up</c>, which owns the members' processes: the page may kill a member
/// (SIGKILL) and start it again (<see cref="ClusterMembers"/>). The network faults and scenarios need the lab's
/// namespaces, so they are not offered. The picture is each member's process, as <c>cluster up</c> knows it.
/// </summary>
internal sealed class ClusterViewControls(ClusterMembers members, Func<LocalMember, Uri> clientUrl) : IViewControls
{
    private static readonly JsonSerializerOptions PictureJson = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <inheritdoc/>
    public IReadOnlyList<string> Actions { get; } = ["kill", "start"];

    /// <inheritdoc/>
    public string Title => "Cluster";

    /// <inheritdoc/>
    public IReadOnlyList<ScenarioChoice> Scenarios { get; } = [];

    /// <inheritdoc/>
    public Task<string> RunAsync(ControlRequest request, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Task.FromResult(request.Action switch
        {
            "kill" => members.Kill(request.Node),
            "start" => members.Start(request.Node),
            _ => throw new CommandFailedException($"no such control: {request.Action}"),
        });
    }

    /// <inheritdoc/>
    public string? Picture()
    {
        var processes = members.Processes;
        return JsonSerializer.Serialize(new
        {
            nodes = processes.Select((p, i) => new
            {
                number = i + 1,
                name = p.Member.Name,
                endpoint = EndpointParser.Display(clientUrl(p.Member)),
                process = p.ExitCode is null ? "running" : "down",
            }),
            faults = Array.Empty<string>(),
            blocked = Array.Empty<int[]>(),
        }, PictureJson);
    }

    /// <inheritdoc/>
    public IReadOnlyList<Uri>? Members() => null;

    /// <inheritdoc/>
    public void Narrate(Action<ScenarioLine> relay)
    {
    }
}
