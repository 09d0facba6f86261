using System.Diagnostics;

namespace Kvorum.Tests.Shared;

/// <summary>
/// A small tmpfs mounted for one test, so that the test can fill a real filesystem or make it read-only.
/// Mounting needs root: elsewhere the test skips and says so; in CI (<c>CI=true</c>, run as root) it fails
/// instead. Unmounted and removed on dispose. Linked into each test project that needs it.
/// </summary>
internal sealed class SmallTmpfs : IDisposable
{
    private SmallTmpfs(string path) => Path = path;

    /// <summary>The mount point.</summary>
    public string Path { get; }

    /// <summary>Mounts a tmpfs of <paramref name="size"/> (mount's syntax, e.g. "4m") at a new temporary directory.</summary>
    public static SmallTmpfs Mount(string size)
    {
        var root = File.ReadLines("/proc/self/status").Any(l => l.StartsWith("Uid:", StringComparison.Ordinal) && l.Split('\t', StringSplitOptions.RemoveEmptyEntries)[2] == "0");
        if (!root && Environment.GetEnvironmentVariable("CI") == "true")
            throw new InvalidOperationException("the filesystem tests must run as root in CI");
        Skip.IfNot(root, "mounting a small tmpfs needs root");
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "kvorum-fs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        Run("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", path);
        return new SmallTmpfs(path);
    }

    /// <summary>Remounts it with <paramref name="options"/> (e.g. "remount,ro").</summary>
    public void Remount(string options) => Run("mount", "-o", options, Path);

    /// <summary>Runs a command and fails the test with its standard error if it exits non-zero.</summary>
    private static void Run(params string[] command)
    {
        var start = new ProcessStartInfo(command[0]) { RedirectStandardError = true };
        foreach (var a in command.Skip(1))
            start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{string.Join(' ', command)}: {error}");
    }

    public void Dispose()
    {
        Run("umount", Path);
        Directory.Delete(Path, recursive: true);
    }
}
