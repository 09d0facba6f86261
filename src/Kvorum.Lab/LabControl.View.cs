using Kvorum.Lab.Nodes;
using Kvorum.Lab.Viewing;

namespace Kvorum.Lab;

/// <summary>The view over the lab: the fault state it draws, and the detached process that serves it.</summary>
internal sealed partial class LabControl
{
    /// <summary>Each member's process and every cut directed link, as <see cref="LabPicture"/>.</summary>
    /// <returns>The picture as of now.</returns>
    public LabPicture Picture()
    {
        var faults = _state.FaultSet();
        var blocked = new List<int[]>();
        foreach (var from in Layout.Nodes)
        {
            foreach (var to in Layout.Nodes.Where(to => faults.Blocks(from.Number, to.Number)))
                blocked.Add([from.Number, to.Number]);
        }

        return new LabPicture(
            [.. Layout.Nodes.Select(n => new LabPictureNode(n.Number, n.Name, n.ClientUrl, Pid(n.Number) == 0 ? "down" : IsPaused(n.Number) ? "paused" : "running", string.Join("; ", faults.Describe(n.Number))))],
            [.. faults.Faults.Select(f => $"#{f.Id} {f}")],
            blocked);
    }

    /// <summary>The lab's throwaway CA and client certificate when it runs with <c>--tls</c>, else null.</summary>
    public LabTls? Tls => _state.Tls ? LabTls.In(Directory) : null;

    /// <summary>Each member's client URL as a client dials it: https under <c>--tls</c>.</summary>
    public IReadOnlyList<Uri> ClientUrls =>
        [.. Layout.Nodes.Select(n => _state.Tls ? Kvorum.Etcd.Serve.ServeArguments.Https(n.ClientUrl) : n.ClientUrl)];

    /// <summary>
    /// Starts <c>kvorum lab view</c> on <paramref name="listen"/> beside the lab, detached; <see cref="Down"/> stops it.
    /// </summary>
    /// <param name="listen">The page's address, <c>HOST:PORT</c>.</param>
    /// <returns>The page's URL, or null and the view's last words when it did not come up.</returns>
    public (Uri? Url, string Why) StartView(string listen) =>
        LabViewProcess.Start(_state.ServerCommand, Directory, listen, TimeSpan.FromSeconds(30));

    /// <summary>
    /// Starts <c>kvorum lab scenario <paramref name="name"/></c> in a lab of its own beside this one
    /// (<see cref="ScenarioProcess.Place"/>), with this lab's heartbeat and election timeout (as paced).
    /// </summary>
    /// <param name="name">The scenario.</param>
    /// <param name="line">Receives each line it prints.</param>
    /// <returns>The running scenario.</returns>
    public ScenarioProcess StartScenario(string name, Action<string> line)
    {
        var place = ScenarioPlace;
        var election = _state.Serve.ElectionTimeoutMs ?? Kvorum.Lab.Pace.DefaultElectionTimeoutMs;
        var heartbeat = _state.Serve.HeartbeatIntervalMs ?? Kvorum.Lab.Pace.DefaultHeartbeatMs;
        string[] arguments =
        [
            "lab", "scenario", name, "--dir", place.Directory, "--prefix", place.Prefix, "--subnet", place.Subnet,
            "--election-timeout", election.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--heartbeat-interval", heartbeat.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ];
        return ScenarioProcess.Start(name, _state.ServerCommand, arguments, line);
    }

    /// <summary>Where this lab's scenarios run when started from the view.</summary>
    public (string Directory, string Prefix, string Subnet) ScenarioPlace => ScenarioProcess.Place(Directory, _state.Prefix, _state.Subnet);
}
