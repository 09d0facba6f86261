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
            [.. Layout.Nodes.Select(n => new LabPictureNode(n.Number, n.Name, n.ClientUrl, Pid(n.Number) == 0 ? "down" : IsPaused(n.Number) ? "paused" : "running"))],
            [.. faults.Faults.Select(f => $"#{f.Id} {f}")],
            blocked);
    }

    /// <summary>
    /// Starts <c>kvorum lab view</c> on <paramref name="listen"/> beside the lab, detached; <see cref="Down"/> stops it.
    /// </summary>
    /// <param name="listen">The page's address, <c>HOST:PORT</c>.</param>
    /// <returns>The page's URL, or null and the view's last words when it did not come up.</returns>
    public (Uri? Url, string Why) StartView(string listen) =>
        LabViewProcess.Start(_state.ServerCommand, Directory, listen, TimeSpan.FromSeconds(30));
}
