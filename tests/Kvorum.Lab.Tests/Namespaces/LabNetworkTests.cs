using System.Diagnostics;
using System.Net.Sockets;
using Kvorum.Lab.Faults;
using Kvorum.Lab.Host;
using Xunit.Abstractions;

namespace Kvorum.Lab.Tests.Namespaces;

[Collection(LabNamespacesGroup.Name)]
public class LabNetworkTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task Up_then_down_leaves_the_host_as_it_was()
    {
        RootLab.Require();
        var before = RootLab.Snapshot();
        var options = RootLab.Options("kvta", 11, 3);
        var progress = new StringWriter();
        using (var lab = await LabControl.UpAsync(options, progress, CancellationToken.None))
        {
            output.WriteLine(progress.ToString());
            var namespaces = NetworkBuilder.Namespaces();
            Assert.Contains("kvta-n1", namespaces);
            Assert.Contains("kvta-n3", namespaces);
            Assert.True(NetworkBuilder.LinkExists("kvta-br"));
            Assert.True(NetworkBuilder.LinkExists("kvta-v2"));
            var rows = await lab.StatusAsync(CancellationToken.None);
            Assert.Equal(3, rows.Count);
            Assert.All(rows, r => Assert.Equal("running", r.Process));
            Assert.Single(rows, r => r.Status is { IsLeader: true });
            Assert.DoesNotContain("default", RootLab.Run("ip", "-n", "kvta-n1", "route", "show").Output, StringComparison.Ordinal);
        }

        var down = new StringWriter();
        Assert.True(LabControl.Down(options.Directory, down) > 0);
        output.WriteLine(down.ToString());
        Assert.Equal(before, RootLab.Snapshot());
        Assert.Equal(0, LabControl.Down(options.Directory, TextWriter.Null));
        Assert.DoesNotContain(Process.GetProcesses(), p => IsServeOf(p, options.Directory));
        RootLab.Discard(options.Directory);
    }

    [SkippableFact]
    public async Task An_up_that_fails_halfway_removes_what_it_created()
    {
        RootLab.Require();
        var before = RootLab.Snapshot();
        var options = RootLab.Options("kvtb", 12, 2) with
        {
            ServerCommand = ["/bin/false"],
            LeaderTimeout = TimeSpan.FromSeconds(3),
        };
        var progress = new StringWriter();
        var error = await Assert.ThrowsAsync<LabException>(() => LabControl.UpAsync(options, progress, CancellationToken.None));
        output.WriteLine(progress.ToString());
        Assert.Contains("no leader after 3 s", error.Message, StringComparison.Ordinal);
        Assert.Contains("removing what was created", progress.ToString(), StringComparison.Ordinal);
        Assert.Equal(before, RootLab.Snapshot());
        RootLab.Discard(options.Directory);
    }

    [SkippableFact]
    public async Task Each_fault_and_process_command_does_what_it_says()
    {
        RootLab.Require();
        var options = RootLab.Options("kvtc", 13, 3);
        using var lab = await LabControl.UpAsync(options, TextWriter.Null, CancellationToken.None);
        try
        {
            await ExpectLinks(lab, "no fault", (1, 2, true), (2, 1, true), (2, 3, true), (3, 1, true));

            var partition = lab.AddFault(Fault.Partition([[1], [2, 3]]));
            await ExpectLinks(lab, partition.ToString(), (1, 2, false), (2, 1, false), (3, 1, false), (2, 3, true), (3, 2, true));
            Assert.True(await HostReaches(lab, 1), "clients on the host still reach a partitioned node");
            lab.Heal(partition.Id);
            await ExpectLinks(lab, "healed", (1, 2, true), (3, 1, true));

            var isolate = lab.AddFault(Fault.Isolate(2));
            await ExpectLinks(lab, isolate.ToString(), (2, 1, false), (1, 2, false), (2, 3, false), (3, 2, false), (1, 3, true));
            lab.Heal();

            var oneWay = lab.AddFault(Fault.Cut(1, 2, oneWay: true));
            await ExpectLinks(lab, oneWay.ToString(), (1, 2, false), (2, 1, true), (1, 3, true), (3, 2, true));
            lab.Heal();

            var both = lab.AddFault(Fault.Cut(1, 2, oneWay: false));
            await ExpectLinks(lab, both.ToString(), (1, 2, false), (2, 1, false), (1, 3, true));
            lab.Heal();

            var loss = lab.AddFault(Fault.Loss(3, 100));
            await ExpectLinks(lab, loss.ToString(), (3, 1, false), (1, 3, false), (1, 2, true));
            lab.Heal();

            // 256 KiB through node 1 to the host: milliseconds on a bare veth, about 2 s at 1 mbit/s. Written once the
            // members agree on a leader again: the faults above may have left an election going, and a write made
            // during one can time out on the server ("request timed out"), as in etcd.
            await lab.WaitForLeaderAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
            await lab.Client.PutAsync(2, "big", new string('x', 256 * 1024), TimeSpan.FromSeconds(10));
            var quick = await TimeRead(lab, 1);
            var slow = lab.AddFault(Fault.Slow(1, "1mbit"));
            Assert.Contains("tbf", RootLab.Run("ip", "netns", "exec", "kvtc-n1", "tc", "qdisc", "show", "dev", "eth0").Output, StringComparison.Ordinal);
            var slowed = await TimeRead(lab, 1);
            output.WriteLine($"{slow}: reading 256 KiB through n1 took {slowed.TotalMilliseconds:0} ms, {quick.TotalMilliseconds:0} ms before");
            Assert.True(slowed > TimeSpan.FromSeconds(1.5) && slowed > 3 * quick, $"{slow}: {slowed} vs {quick}");
            lab.Heal();
            Assert.DoesNotContain("tbf", RootLab.Run("ip", "netns", "exec", "kvtc-n1", "tc", "qdisc", "show", "dev", "eth0").Output, StringComparison.Ordinal);
            Assert.DoesNotContain("drop", RootLab.Run("ip", "netns", "exec", "kvtc-n1", "nft", "list", "ruleset").Output, StringComparison.Ordinal);

            lab.Kill(3);
            Assert.Equal(0, lab.Pid(3));
            await ExpectLinks(lab, "n3 killed", (1, 3, false), (1, 2, true));
            var started = lab.StartNode(3);
            // Running from the moment start returns, not only once its launcher has exec'd into the server: a look at
            // it in between (its command line empty while a program is replaced) took it for a member not running.
            Assert.StartsWith(options.ServerCommand[0] + "\0", File.ReadAllText($"/proc/{started}/cmdline"), StringComparison.Ordinal);
            Assert.True(lab.IsRunning(3), "n3 is running as soon as it is started");
            await WaitUntil(() => Connect(lab, 1, 3), "n3 listens again after start");

            lab.Pause(2);
            Assert.True(lab.IsPaused(2));
            Assert.Equal("paused", (await lab.StatusAsync(CancellationToken.None))[1].Process);
            lab.Resume(2);
            Assert.False(lab.IsPaused(2));
            Assert.True(lab.Stop(2), "n2 exits cleanly on SIGTERM");
            Assert.Equal("down", (await lab.StatusAsync(CancellationToken.None))[1].Process);
            lab.StartNode(2);
            await lab.WaitForLeaderAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        }
        finally
        {
            LabControl.Down(options.Directory, TextWriter.Null);
        }
        RootLab.Discard(options.Directory);
    }

    private async Task ExpectLinks(LabControl lab, string state, params (int From, int To, bool Open)[] links)
    {
        var results = await Task.WhenAll(links.Select(l => Task.Run(() => Connect(lab, l.From, l.To))));
        for (var i = 0; i < links.Length; i++)
        {
            output.WriteLine($"{state}: n{links[i].From} -> n{links[i].To} {(results[i] ? "connects" : "blocked")}");
            Assert.True(results[i] == links[i].Open, $"{state}: TCP connect n{links[i].From} -> n{links[i].To} should {(links[i].Open ? "succeed" : "fail")}");
        }
    }

    // A TCP connect from node A's namespace to node B's peer port, with a 2 s limit.
    private static bool Connect(LabControl lab, int from, int to) =>
        RootLab.Run("ip", "netns", "exec", lab.Layout.Node(from).Namespace, "timeout", "2", "bash", "-c",
            $"exec 3<>/dev/tcp/{lab.Layout.Node(to).Address}/2380").Code == 0;

    private static async Task<bool> HostReaches(LabControl lab, int node)
    {
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await client.ConnectAsync(lab.Layout.Node(node).Address, 2379, timeout.Token);
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task<TimeSpan> TimeRead(LabControl lab, int node)
    {
        var clock = Stopwatch.StartNew();
        var (value, _) = await lab.Client.GetAsync(node, "big", TimeSpan.FromSeconds(30));
        Assert.Equal(256 * 1024, value?.Length);
        return clock.Elapsed;
    }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), what);
            await Task.Delay(200);
        }
    }

    private static bool IsServeOf(Process process, string directory)
    {
        try
        {
            return File.ReadAllText($"/proc/{process.Id}/cmdline").Contains(directory, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
