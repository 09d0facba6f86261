using System.Diagnostics;
using Kvorum.Lab.Host;

namespace Kvorum.Lab.Tests.Namespaces;

/// <summary>
/// What the namespace tests share: the root/tool requirement (skip with the reason on a developer machine,
/// fail in CI where .ci/run installs everything), the server command, and lab options of their own.
/// </summary>
internal static class RootLab
{
    public static void Require()
    {
        var missing = Prerequisites.Missing();
        if (missing is not null && Environment.GetEnvironmentVariable("CI") == "true")
            throw new InvalidOperationException($"the lab tests must run in CI, but {missing}");
        Skip.If(missing is not null, missing);
    }

    public static string KvorumDll => Path.Combine(AppContext.BaseDirectory, "kvorum.dll");

    public static IReadOnlyList<string> ServerCommand => ["dotnet", KvorumDll];

    /// <summary>Options for a test lab: its own prefix, subnet and directory, so it collides with nothing.</summary>
    public static LabOptions Options(string prefix, int subnet, int nodes) => new()
    {
        Prefix = prefix,
        Subnet = $"10.78.{subnet}.0/24",
        Nodes = nodes,
        Directory = Path.Combine(Path.GetTempPath(), $"kvorum-labtest-{prefix}-{Guid.NewGuid():N}"[..40]),
        ServerCommand = ServerCommand,
    };

    /// <summary>
    /// Removes a passed test's lab directory (data, logs, state); a failed test leaves its own for diagnosis.
    /// Each member preallocates a 64 MB log segment, so kept directories fill a disk over repeated runs.
    /// </summary>
    public static void Discard(string directory)
    {
        if (System.IO.Directory.Exists(directory))
            System.IO.Directory.Delete(directory, recursive: true);
    }

    /// <summary>Runs a command and returns its exit code and output.</summary>
    public static (int Code, string Output) Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output);
    }

    /// <summary>The host's namespaces, links and nft ruleset, to compare before and after.</summary>
    public static string Snapshot() =>
        string.Join("\n---\n", Run("ip", "netns", "list").Output, LinkNames(), Run("nft", "list", "ruleset").Output);

    private static string LinkNames() =>
        string.Join('\n', Run("ip", "-o", "link", "show").Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(':')[1].Trim()).Order(StringComparer.Ordinal));
}
