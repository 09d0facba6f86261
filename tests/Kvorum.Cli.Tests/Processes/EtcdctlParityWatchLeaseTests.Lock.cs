using System.Text.RegularExpressions;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>The lock and elect commands, each scenario run with etcdctl and with kvorum.</summary>
public abstract partial class EtcdctlParityWatchLeaseTests
{
    [SkippableTheory]
    [MemberData(nameof(CliProcess.Tools), MemberType = typeof(CliProcess))]
    public async Task Lock_makes_the_second_contender_wait_until_the_first_releases_and_runs_its_command_with_the_lock_key_and_revision(string tool)
    {
        await using var server = await StartServerAsync();
        await using var first = CliProcess.Start(tool, server.ClientUrl, stdin: false, "lock", "L");
        await first.WaitForOutputAsync(o => o.EndsWith("\n\n", StringComparison.Ordinal), Patience, "the lock key");
        var firstKey = first.Out.Split('\n')[0];
        Assert.Matches("^L/[0-9a-f]+$", firstKey);
        Assert.Equal(firstKey + "\n\n", first.Out);

        await using var second = CliProcess.Start(tool, server.ClientUrl, stdin: false,
            "lock", "L", "--", "sh", "-c", "echo key=$ETCD_LOCK_KEY rev=$ETCD_LOCK_REV");
        var keys = await WaitForKeysAsync(server, "L/", 2);
        Assert.Equal(firstKey, keys[0]);
        Assert.False(second.HasExited, "the second contender ran its command while the first held the lock");
        Assert.Equal("", second.Out);

        await first.SignalAsync();
        Assert.Equal(0, await first.ExitAsync(Patience));
        Assert.Equal(0, await second.ExitAsync(Patience));
        // The second got the lock when the first's key was deleted; then it released it: one revision later.
        var now = Revision((await RunAsync("etcdctl", server, "get", "L", "--prefix", "-w", "json")).Out);
        Assert.Equal($"key={keys[1]} rev={now - 1}\n", second.Out);
        Assert.Empty(await WaitForKeysAsync(server, "L/", 0));
    }

    [SkippableTheory]
    [MemberData(nameof(CliProcess.Tools), MemberType = typeof(CliProcess))]
    public async Task Elect_observer_sees_each_new_leader_and_a_candidate_leads_once_the_one_before_resigns(string tool)
    {
        await using var server = await StartServerAsync();
        await using var observer = CliProcess.Start(tool, server.ClientUrl, stdin: false, "elect", "-l", "E");
        await using var first = CliProcess.Start(tool, server.ClientUrl, stdin: false, "elect", "E", "p1");
        await first.WaitForOutputAsync(o => o.EndsWith("\np1\n", StringComparison.Ordinal), Patience, "election of p1");
        var firstKey = first.Out.Split('\n')[0];
        Assert.Matches("^E/[0-9a-f]+$", firstKey);
        await observer.WaitForOutputAsync(o => o.EndsWith("\np1\n", StringComparison.Ordinal), Patience, "p1 seen by the observer");

        await using var second = CliProcess.Start(tool, server.ClientUrl, stdin: false, "elect", "E", "p2");
        var keys = await WaitForKeysAsync(server, "E/", 2);
        Assert.Equal("", second.Out);
        await first.SignalAsync();
        Assert.Equal(0, await first.ExitAsync(Patience));
        await second.WaitForOutputAsync(o => o.EndsWith("\np2\n", StringComparison.Ordinal), Patience, "election of p2");
        Assert.Equal($"{keys[1]}\np2\n", second.Out);
        await observer.WaitForOutputAsync(o => o.EndsWith("\np2\n", StringComparison.Ordinal), Patience, "p2 seen by the observer");

        await second.SignalAsync(terminate: true);
        Assert.Equal(0, await second.ExitAsync(Patience));
        Assert.Empty(await WaitForKeysAsync(server, "E/", 0));
        await observer.SignalAsync();
        Assert.Equal(0, await observer.ExitAsync(Patience));
        Assert.Equal($"{firstKey}\np1\n{keys[1]}\np2\n", observer.Out);
    }

    [SkippableFact]
    public async Task Elect_with_a_proposal_and_listen_or_with_neither_exits_128_as_etcdctl_does()
    {
        await using var server = await StartServerAsync();
        foreach (var args in new[] { new[] { "elect", "E" }, ["elect", "-l", "E", "p"] })
        {
            var expected = await RunAsync("etcdctl", server, args);
            var actual = await RunAsync("kvorum", server, args);
            Assert.Equal(128, expected.Code);
            Assert.Equal(expected.Code, actual.Code);
            Assert.Equal(ErrorLine(expected.Err), ErrorLine(actual.Err));
        }
    }

    /// <summary>Waits until exactly <paramref name="count"/> keys are under <paramref name="prefix"/>; returns them in creation order.</summary>
    private static async Task<string[]> WaitForKeysAsync(IParityServer server, string prefix, int count)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var (_, output, _) = await RunAsync("etcdctl", server, "get", prefix, "--prefix", "--keys-only", "--sort-by=CREATE");
            var keys = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (keys.Length == count)
                return keys;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{keys.Length} keys under {prefix}, not {count}: {output}");
            await Task.Delay(100);
        }
    }

    private static long Revision(string json) =>
        long.Parse(Regex.Match(json, "\"revision\":([0-9]+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
}
