using System.Text.Json;

namespace Kvorum.Lab.State;

/// <summary>Reads and writes <c>state.json</c>; writes go to a temporary file renamed over the old one.</summary>
internal static class LabStateStore
{
    /// <summary>The state file in <paramref name="directory"/>.</summary>
    /// <param name="directory">The lab directory.</param>
    /// <returns>Its path.</returns>
    public static string PathIn(string directory) => Path.Combine(directory, "state.json");

    /// <summary>The state of the lab in <paramref name="directory"/>, or null when no lab is up there.</summary>
    /// <param name="directory">The lab directory.</param>
    /// <returns>The state or null.</returns>
    /// <exception cref="LabException">The file exists but cannot be read.</exception>
    public static LabState? TryLoad(string directory)
    {
        var path = PathIn(directory);
        if (!File.Exists(path))
            return null;
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), LabStateJsonContext.Default.LabState)
                ?? throw new LabException($"{path} is empty; remove it (and any kvorum-* namespaces) by hand");
        }
        catch (JsonException e)
        {
            throw new LabException($"{path} is not a lab state file ({e.Message}); remove it to start over", e);
        }
    }

    /// <summary>The state of the lab in <paramref name="directory"/>.</summary>
    /// <param name="directory">The lab directory.</param>
    /// <exception cref="LabException">No lab is up there.</exception>
    public static LabState Load(string directory) =>
        TryLoad(directory) ?? throw new LabException($"no lab is up (no {PathIn(directory)}); start one with `kvorum lab up`");

    /// <summary>Writes <paramref name="state"/> to <paramref name="directory"/>.</summary>
    /// <param name="directory">The lab directory.</param>
    /// <param name="state">The state.</param>
    public static void Save(string directory, LabState state)
    {
        Directory.CreateDirectory(directory);
        var path = PathIn(directory);
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(state, LabStateJsonContext.Default.LabState));
        File.Move(temp, path, overwrite: true);
        // Each member publishes its own fault state from a file of its own (issue 22).
        Faults.MemberFaultFiles.Write(directory, state);
    }

    /// <summary>Removes the state file.</summary>
    /// <param name="directory">The lab directory.</param>
    public static void Delete(string directory) => File.Delete(PathIn(directory));
}
