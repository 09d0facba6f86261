namespace Kvorum.Cli.Tests.View;

/// <summary>
/// Debian's Firefox ESR, which the page tests drive through Playwright over WebDriver BiDi (channel
/// <c>moz-firefox</c> with its executable path: a stock Firefox, not Playwright's patched build, which would need a
/// download). <c>.ci/run</c> installs it; without it a test skips locally, saying why, and fails in CI.
/// </summary>
internal static class Firefox
{
    /// <summary>Playwright's channel for a stock Firefox driven over WebDriver BiDi.</summary>
    public const string BidiChannel = "moz-firefox";

    /// <summary>The browser's path: <c>KVORUM_FIREFOX</c>, or the first Firefox on the usual paths.</summary>
    public static string? Path =>
        Environment.GetEnvironmentVariable("KVORUM_FIREFOX") is { Length: > 0 } set ? set
        : new[] { "/usr/bin/firefox-esr", "/usr/bin/firefox" }.FirstOrDefault(File.Exists);

    /// <summary>The browser's path; skips the test when there is none, or fails it in CI (<c>CI=true</c>).</summary>
    public static string Require()
    {
        if (Path is { } path)
            return path;
        const string Why = "no firefox at /usr/bin/firefox-esr (apt-get install firefox-esr, or set KVORUM_FIREFOX)";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException(Why + ": required in CI");
        Skip.If(true, Why);
        return "";
    }
}
