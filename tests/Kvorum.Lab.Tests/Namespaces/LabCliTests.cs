using Xunit.Abstractions;

namespace Kvorum.Lab.Tests.Namespaces;

/// <summary>The <c>kvorum lab</c> commands as a user runs them: one line and a non-zero exit on every mistake.</summary>
[Collection(LabNamespacesGroup.Name)]
public class LabCliTests(ITestOutputHelper output)
{
    private (int Code, string Output) Kvorum(params string[] arguments)
    {
        var result = RootLab.Run("dotnet", [RootLab.KvorumDll, .. arguments]);
        output.WriteLine($"$ kvorum {string.Join(' ', arguments)}\n{result.Output}(exit {result.Code})");
        return result;
    }

    [SkippableFact]
    public void Commands_without_a_lab_say_how_to_start_one()
    {
        RootLab.Require();
        var dir = Path.Combine(Path.GetTempPath(), "kvorum-nolab-" + Guid.NewGuid().ToString("N"));
        var (code, text) = Kvorum("lab", "status", "--dir", dir);
        Assert.Equal(1, code);
        Assert.Equal($"kvorum lab: no lab is up (no {dir}/state.json); start one with `kvorum lab up`\n", text);
        (code, text) = Kvorum("lab", "down", "--dir", dir);
        Assert.Equal(0, code);
        Assert.Contains("nothing to remove", text, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void A_user_who_is_not_root_is_told_so()
    {
        RootLab.Require();
        Skip.If(Host.Prerequisites.Find("setpriv") is null, "setpriv (util-linux) is needed to drop root");
        var result = RootLab.Run("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=/tmp", "DOTNET_CLI_HOME=/tmp",
            "dotnet", RootLab.KvorumDll, "lab", "up", "--dir", "/tmp/kvorum-lab-nobody");
        output.WriteLine(result.Output);
        Assert.Equal(1, result.Code);
        Assert.Equal("kvorum lab: the lab needs root (network namespaces, veth links and nftables rules): run it with sudo or as root\n", result.Output);
    }

    [SkippableFact]
    public void Up_status_faults_and_down_through_the_command_line()
    {
        RootLab.Require();
        var dir = Path.Combine(Path.GetTempPath(), "kvorum-clilab-" + Guid.NewGuid().ToString("N"));
        string[] at = ["--dir", dir];
        try
        {
            var (code, text) = Kvorum(["lab", "up", "--nodes", "3", "--no-view", "--prefix", "kvtl", "--subnet", "10.78.41.0/24", .. at]);
            Assert.Equal(0, code);
            Assert.Contains("lab up;", text, StringComparison.Ordinal);
            Assert.Contains("a lab is already up", Kvorum(["lab", "up", "--nodes", "3", "--prefix", "kvtl", .. at]).Output, StringComparison.Ordinal);

            Assert.Equal(0, Kvorum(["lab", "partition", "1", "/", "2,3", .. at]).Code);
            (code, text) = Kvorum(["lab", "status", .. at]);
            Assert.Equal(0, code);
            Assert.Contains("kvtl-n2", text, StringComparison.Ordinal);
            Assert.Contains("#1 partition 1 / 2,3", text, StringComparison.Ordinal);

            Assert.Equal("kvorum lab: no node 7: the lab has nodes 1..3\n", Kvorum(["lab", "isolate", "7", .. at]).Output);
            Assert.Equal("kvorum lab: no fault #9 is in force; `kvorum lab status` lists them\n", Kvorum(["lab", "heal", "9", .. at]).Output);
            Assert.Equal(2, Kvorum(["lab", "loss", "1", .. at]).Code);
            Assert.Contains("healed #1", Kvorum(["lab", "heal", .. at]).Output, StringComparison.Ordinal);

            (code, text) = Kvorum(["lab", "exec", "2", .. at, "--", "ip", "-4", "-o", "addr", "show", "dev", "eth0"]);
            Assert.Equal(0, code);
            Assert.Contains("10.78.41.2/24", text, StringComparison.Ordinal);
            Assert.Equal(3, Kvorum(["lab", "exec", "1", .. at, "--", "sh", "-c", "exit 3"]).Code);

            Assert.Contains("n3: killed", Kvorum(["lab", "kill", "3", .. at]).Output, StringComparison.Ordinal);
            Assert.Contains("n3 is not running", Kvorum(["lab", "pause", "3", .. at]).Output, StringComparison.Ordinal);
            Assert.Contains("n3: started", Kvorum(["lab", "start", "3", .. at]).Output, StringComparison.Ordinal);
        }
        finally
        {
            var (code, text) = Kvorum(["lab", "down", .. at]);
            Assert.Equal(0, code);
            Assert.Contains("removed bridge kvtl-br", text, StringComparison.Ordinal);
        }
        RootLab.Discard(dir);
    }
}
