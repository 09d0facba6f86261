namespace Kvorum.Cli.Tests.View;

/// <summary>
/// Debian's chromium, which the page tests drive through Playwright (its executable path given; Playwright's own
/// browser builds are never downloaded). <c>.ci/run</c> installs it; without it a test skips locally, saying why, and
/// fails in CI.
/// </summary>
internal static class Chromium
{
    /// <summary>The browser's path: <c>KVORUM_CHROMIUM</c>, or the first chromium on the usual paths.</summary>
    public static string? Path =>
        Environment.GetEnvironmentVariable("KVORUM_CHROMIUM") is { Length: > 0 } set ? set
        : new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists);

    /// <summary>The browser's path; skips the test when there is none, or fails it in CI (<c>CI=true</c>).</summary>
    public static string Require()
    {
        if (Path is { } path)
            return path;
        const string Why = "no chromium at /usr/bin/chromium (apt-get install chromium, or set KVORUM_CHROMIUM)";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException(Why + ": required in CI");
        Skip.If(true, Why);
        return "";
    }
}
