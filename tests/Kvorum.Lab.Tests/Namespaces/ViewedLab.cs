using Kvorum.Lab.Viewing;
using Xunit.Abstractions;

namespace Kvorum.Lab.Tests.Namespaces;

/// <summary>
/// A lab brought up as a user does, <c>kvorum lab up --view-listen</c>, for the page tests: its directory, its view's
/// URL, <see cref="Down"/> (the scenarios' lab beside it too, and the view). The waits on its page are
/// <see cref="Kvorum.Cli.Tests.View.PageSteps"/>'s.
/// </summary>
internal sealed class ViewedLab
{
    private readonly ITestOutputHelper _output;

    private ViewedLab(ITestOutputHelper output, string directory, string prefix, string subnet, Uri url)
    {
        _output = output;
        Directory = directory;
        Prefix = prefix;
        Subnet = subnet;
        Url = url;
    }

    /// <summary>The lab directory.</summary>
    public string Directory { get; }

    /// <summary>The lab's name prefix.</summary>
    public string Prefix { get; }

    /// <summary>The lab's subnet.</summary>
    public string Subnet { get; }

    /// <summary>The view's page.</summary>
    public Uri Url { get; }

    /// <summary>Brings up a 3-member lab with its view on a free loopback port, asserting that it came up.</summary>
    public static ViewedLab Up(ITestOutputHelper output, string prefix, string subnet)
    {
        var dir = Path.Combine(Path.GetTempPath(), "kvorum-viewlab-" + Guid.NewGuid().ToString("N"));
        var port = global::Kvorum.Tests.Shared.FreePorts.Next();
        var (code, text) = Run(output, "lab", "up", "--nodes", "3", "--prefix", prefix, "--subnet", subnet, "--dir", dir, "--view-listen", $"127.0.0.1:{port}");
        var url = new Uri($"http://127.0.0.1:{port}/");
        var lab = new ViewedLab(output, dir, prefix, subnet, url);
        if (code != 0)
            lab.Down();
        Assert.Equal(0, code);
        Assert.Contains($"view: {url}", text, StringComparison.Ordinal);
        return lab;
    }

    /// <summary>Runs <c>kvorum ARGUMENTS</c>, writing the command and its output to the test's output.</summary>
    public (int Code, string Output) Kvorum(params string[] arguments) => Run(_output, arguments);

    /// <summary>
    /// Takes down the scenarios' lab (when one was left) and the lab, asserting that the view stopped with it. The
    /// caller discards the directory once the test has passed.
    /// </summary>
    public void Down()
    {
        Kvorum("lab", "down", "--dir", ScenarioProcess.DirectoryOf(Directory));
        var (code, text) = Kvorum("lab", "down", "--dir", Directory);
        Assert.Equal(0, code);
        Assert.Contains("stopped the view", text, StringComparison.Ordinal);
        Assert.Null(LabViewProcess.Read(Directory));
    }

    private static (int Code, string Output) Run(ITestOutputHelper output, params string[] arguments)
    {
        var result = RootLab.Run("dotnet", [RootLab.KvorumDll, .. arguments]);
        output.WriteLine($"$ kvorum {string.Join(' ', arguments)}\n{result.Output}(exit {result.Code})");
        return result;
    }
}
