using System.Diagnostics;
using System.Globalization;
using System.Text;
using Kvorum.Tests.Shared;
using Xunit.Abstractions;

namespace Kvorum.Lab.Tests.Namespaces;

/// <summary>
/// <c>--pace N</c> end to end: the members are started with N times the heartbeat and election timeout, the first
/// election waits that much longer, and status shows the pace — for <c>lab up</c> (root) and <c>cluster up</c>.
/// </summary>
[Collection(LabNamespacesGroup.Name)]
public class PaceCliTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Lab_up_with_a_pace_slows_every_member_and_status_shows_it()
    {
        RootLab.Require();
        var dir = Path.Combine(Path.GetTempPath(), "kvorum-pacelab-" + Guid.NewGuid().ToString("N"));
        string[] at = ["--dir", dir];
        try
        {
            var (code, text) = Kvorum(["lab", "up", "--nodes", "1", "--no-view", "--pace", "3", "--prefix", "kvtp", "--subnet", "10.78.47.0/24", .. at]);
            Assert.Equal(0, code);
            // One member elects itself once its election timeout passes: 3 × 1000 ms + a tick at least.
            var leads = text.Split('\n').Single(l => l.StartsWith("n1 leads after ", StringComparison.Ordinal));
            var seconds = double.Parse(leads["n1 leads after ".Length..leads.IndexOf(" s;", StringComparison.Ordinal)], CultureInfo.InvariantCulture);
            Assert.True(seconds >= 3.0, leads);

            var commandLine = ServerCommandLine(Path.Combine(dir, "n1"));
            Assert.Contains("--election-timeout 3000 --heartbeat-interval 300", commandLine, StringComparison.Ordinal);

            (code, text) = Kvorum(["lab", "status", .. at]);
            Assert.Equal(0, code);
            Assert.Contains("pace 3: heartbeat 300 ms, election timeout 3000 ms", text, StringComparison.Ordinal);
            Assert.Equal((2, "kvorum lab up: --pace must be a whole number from 1 to 1000, got 0\n"), Kvorum(["lab", "up", "--pace", "0", "--dir", dir + "-unused"]));
        }
        finally
        {
            Assert.Equal(0, Kvorum(["lab", "down", .. at]).Code);
        }

        RootLab.Discard(dir);
    }

    [Fact]
    public async Task Cluster_up_with_a_pace_slows_every_member_and_its_status_line_shows_it()
    {
        var basePort = ConsecutivePorts();
        var data = Path.Combine(Path.GetTempPath(), "kvorum-pacecluster-" + Guid.NewGuid().ToString("N"));
        var start = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true };
        // SIGINT at its default, as a user's Ctrl-C finds it (a test host may have it ignored).
        foreach (var a in new[] { "--default-signal=INT", "dotnet", RootLab.KvorumDll, "cluster", "up", "--nodes", "1", "--pace", "2", "--data", data, "--base-port", basePort.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(a);
        using var cli = Process.Start(start)!;
        var lines = new StringBuilder();
        var leaderLine = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        cli.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                return;
            lock (lines)
                lines.AppendLine(e.Data);
            if (e.Data.Contains("leader", StringComparison.Ordinal))
                leaderLine.TrySetResult(e.Data);
        };
        cli.BeginOutputReadLine();
        try
        {
            var line = await leaderLine.Task.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.StartsWith("pace 2 | infra1 up leader term", line, StringComparison.Ordinal);
            lock (lines)
                Assert.Contains("pace 2: heartbeat 200 ms, election timeout 2000 ms", lines.ToString(), StringComparison.Ordinal);
            var commandLine = ServerCommandLine(Path.Combine(data, "infra1"));
            Assert.Contains("--election-timeout 2000 --heartbeat-interval 200", commandLine, StringComparison.Ordinal);
        }
        finally
        {
            RootLab.Run("kill", "-INT", cli.Id.ToString(CultureInfo.InvariantCulture));
            if (!cli.WaitForExit(TimeSpan.FromSeconds(20)))
                cli.Kill(entireProcessTree: true);
            lock (lines)
                output.WriteLine(lines.ToString());
        }

        Directory.Delete(data, recursive: true);
    }

    private (int Code, string Output) Kvorum(params string[] arguments)
    {
        var result = RootLab.Run("dotnet", [RootLab.KvorumDll, .. arguments]);
        output.WriteLine($"$ kvorum {string.Join(' ', arguments)}\n{result.Output}(exit {result.Code})");
        return result;
    }

    /// <summary>The command line of the <c>kvorum serve</c> process whose data dir is <paramref name="dataDir"/>.</summary>
    private static string ServerCommandLine(string dataDir)
    {
        foreach (var proc in Directory.EnumerateDirectories("/proc").Where(d => Path.GetFileName(d).All(char.IsAsciiDigit)))
        {
            string text;
            try
            {
                text = File.ReadAllText(Path.Combine(proc, "cmdline")).Replace('\0', ' ');
            }
            catch (IOException)
            {
                continue;
            }

            if (text.Contains(" serve ", StringComparison.Ordinal) && text.Contains($"--data-dir {dataDir} ", StringComparison.Ordinal))
                return text;
        }

        throw new InvalidOperationException($"no kvorum serve with data dir {dataDir} is running");
    }

    /// <summary>infra1 takes the base port for clients and the next one for peers.</summary>
    private static int ConsecutivePorts()
    {
        while (true)
        {
            var first = FreePorts.Next();
            if (FreePorts.Next() == first + 1)
                return first;
        }
    }
}
