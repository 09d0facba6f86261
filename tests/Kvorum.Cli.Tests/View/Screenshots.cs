namespace Kvorum.Cli.Tests.View;

/// <summary>
/// Where the page tests save their pictures: the directory named by <c>KVORUM_SCREENSHOTS</c>
/// (<c>KVORUM_SCREENSHOTS=$PWD/docs dotnet test …</c> refreshes <c>docs/*.png</c>), else a temporary directory, so
/// that an ordinary test run does not change the repository.
/// </summary>
internal static class Screenshots
{
    /// <summary>The path of the picture called <paramref name="name"/>.</summary>
    public static string PathOf(string name) =>
        System.IO.Path.Combine(Environment.GetEnvironmentVariable("KVORUM_SCREENSHOTS") is { Length: > 0 } dir ? dir : System.IO.Path.GetTempPath(), name);
}
