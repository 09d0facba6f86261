namespace Kvorum.Lab.Host;

/// <summary>
/// What the lab needs from the host: root, and the <c>ip</c>, <c>tc</c> and <c>nft</c> programs. Each missing
/// piece is named together with how to get it.
/// </summary>
internal static class Prerequisites
{
    private static readonly (string Tool, string Package)[] Tools = [("ip", "iproute2"), ("tc", "iproute2"), ("nft", "nftables")];

    /// <summary>Why the lab cannot run here, or null when it can.</summary>
    /// <returns>One line naming what is missing and how to install it; null when everything is present.</returns>
    public static string? Missing() => Missing(IsRoot(), Find);

    /// <summary>Why the lab cannot run, given who we are and what is installed (for tests).</summary>
    /// <param name="isRoot">Whether we run as root.</param>
    /// <param name="find">Finds a program; null when absent.</param>
    /// <returns>The reason, or null.</returns>
    internal static string? Missing(bool isRoot, Func<string, string?> find)
    {
        if (!isRoot)
            return "the lab needs root (network namespaces, veth links and nftables rules): run it with sudo or as root";
        string[] missing = [.. Tools.Where(t => find(t.Tool) is null).Select(t => t.Tool)];
        if (missing.Length == 0)
            return null;
        string[] packages = [.. Tools.Where(t => missing.Contains(t.Tool)).Select(t => t.Package).Distinct()];
        return $"the lab needs {string.Join(" and ", missing)}, not found on PATH: install with `apt-get install {string.Join(' ', packages)}`";
    }

    /// <summary>Throws the line of <see cref="Missing()"/> when there is one.</summary>
    /// <exception cref="LabException">Something the lab needs is missing.</exception>
    public static void Require()
    {
        if (Missing() is { } reason)
            throw new LabException(reason);
    }

    /// <summary>True when this process runs with effective user id 0.</summary>
    /// <returns>Whether we are root.</returns>
    public static bool IsRoot()
    {
        if (!OperatingSystem.IsLinux())
            return false;
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (!line.StartsWith("Uid:", StringComparison.Ordinal))
                continue;
            var ids = line[4..].Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            return ids.Length > 1 && ids[1] == "0";
        }

        return false;
    }

    /// <summary>The full path of <paramref name="tool"/> on PATH (and the sbin directories root has), or null.</summary>
    /// <param name="tool">The program name.</param>
    /// <returns>Its path or null.</returns>
    public static string? Find(string tool)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        var dirs = path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]);
        return dirs.Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);
    }
}
