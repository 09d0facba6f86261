namespace Kvorum.Cli.Tests.Processes;

/// <summary>The watch command.</summary>
public abstract partial class EtcdctlParityWatchLeaseTests
{
    /// <summary>
    /// The history both servers get (through etcdctl) before any watch starts: puts, a put over a value, a delete,
    /// and a txn whose events share a revision. On a fresh server the first put is revision 2, so a watch from
    /// revision 2 replays all of it; the last put on <c>w</c> and the put of <c>w/zz</c> end every watch's output.
    /// </summary>
    private static readonly string[][] WatchHistory =
    [
        ["put", "w", "1"],
        ["put", "w", "2"],
        ["put", "w/x", "3"],
        ["put", "v", "not watched"],
        ["del", "w"],
        ["put", "w", "end"],
        ["put", "w/zz", "end"],
    ];

    /// <summary>Each watch and the text its output ends with once it has the whole history (base64 of "end" and "w/zz" in JSON).</summary>
    private static readonly (string[] Args, string Last)[] Watches =
    [
        (["watch", "w", "--rev", "2"], "w\nend\n"),
        (["watch", "w", "--prefix", "--rev", "2"], "w/zz\nend\n"),
        (["watch", "w", "--prefix", "--prev-kv", "--rev", "3"], "w/zz\nend\n"),
        (["watch", "w", "w/y", "--rev", "2"], "w\nend\n"),
        (["watch", "w", "--rev", "2", "-w", "json"], "\"ZW5k\"}}],\"CompactRevision\":0,\"Canceled\":false,\"Created\":false}\n"),
        (["watch", "w", "--prefix", "--prev-kv", "--rev", "2", "-w", "json"], "\"dy96eg==\",\"create_revision\":8,\"mod_revision\":8,\"version\":1,\"value\":\"ZW5k\"}}],\"CompactRevision\":0,\"Canceled\":false,\"Created\":false}\n"),
        // A command per event, with the event in its environment (Go-quoted).
        (["watch", "w", "--prefix", "--rev", "2", "--", "sh", "-c", "echo \"$ETCD_WATCH_REVISION $ETCD_WATCH_EVENT_TYPE $ETCD_WATCH_KEY $ETCD_WATCH_VALUE\""], "\"w/zz\" \"end\"\n"),
    ];

    /// <summary>Watches whose key comes from the environment, and argument mistakes: same output, errors and exit codes (run after the compaction at 4).</summary>
    private static readonly (Dictionary<string, string> Environment, string[] Args, string? Last)[] EnvironmentWatches =
    [
        (new() { ["ETCDCTL_WATCH_KEY"] = "w", ["ETCDCTL_WATCH_RANGE_END"] = "w/y" }, ["watch", "--rev", "5"], "w\nend\n"),
        (new() { ["ETCDCTL_WATCH_KEY"] = "w" }, ["watch", "--rev", "5", "--", "sh", "-c", "echo \"$ETCD_WATCH_KEY\""], "\"w\"\n\"w\"\n"),
        (new() { ["ETCDCTL_WATCH_KEY"] = "w" }, ["watch", "w"], null),
        (new() { ["ETCDCTL_WATCH_KEY"] = "w" }, ["watch", "w", "--", "echo", "1"], null),
        (new(), ["watch", "w", "--"], null),
        (new(), ["watch"], null),
        (new(), ["watch", "w", "--rev", "5", "--", "false"], null),
    ];

    /// <summary>Watches that the server ends: a start revision below the compaction, a range that is empty.</summary>
    private static readonly string[][] CanceledWatches =
    [
        ["watch", "w", "--rev", "2"],
        ["watch", "w", "--prefix", "--rev", "3", "-w", "json"],
        ["watch", "w", "a"],
        ["watch", "w", "a", "-w", "json"],
    ];

    [SkippableFact]
    public async Task Watch_prints_what_etcdctl_prints()
    {
        var (etcdctlServer, kvorumServer) = await StartTwoServersAsync();
        await using var forEtcdctl = etcdctlServer;
        await using var forKvorum = kvorumServer;
        // The two sides share nothing: each step runs on both servers at once.
        async Task HistoryAsync(IParityServer server)
        {
            foreach (var step in WatchHistory)
                Assert.Equal(0, (await RunAsync("etcdctl", server, step)).Code);
        }
        await Task.WhenAll(HistoryAsync(forEtcdctl), HistoryAsync(forKvorum));
        var differences = new List<string>();
        foreach (var (args, last) in Watches)
        {
            var (expected, actual) = await BothAsync(WatchUntilAsync("etcdctl", forEtcdctl, args, last), WatchUntilAsync("kvorum", forKvorum, args, last));
            Compare(string.Join(' ', args), Replace(expected, forEtcdctl.Names), Replace(actual, forKvorum.Names), differences);
        }

        foreach (var compaction in await Task.WhenAll(new[] { forEtcdctl, forKvorum }.Select(server => RunAsync("etcdctl", server, "compaction", "4"))))
            Assert.Equal(0, compaction.Code);
        foreach (var args in CanceledWatches)
        {
            var command = string.Join(' ', args);
            var (expected, actual) = await BothAsync(CliProcess.RunAsync("etcdctl", forEtcdctl.ClientUrl, args), CliProcess.RunAsync("kvorum", forKvorum.ClientUrl, args));
            if (expected.Code != actual.Code)
                differences.Add($"`{command}`: etcdctl exited {expected.Code}, kvorum {actual.Code} ({actual.Err.Trim()})");
            Compare(command, Replace(expected.Out, forEtcdctl.Names), Replace(actual.Out, forKvorum.Names), differences);
            Compare(command + " (stderr)", UserLines(expected.Err), UserLines(actual.Err), differences);
        }
        foreach (var (environment, args, last) in EnvironmentWatches)
        {
            var command = string.Join(' ', environment.Select(e => $"{e.Key}={e.Value}").Concat(args));
            if (last is not null)
            {
                // One side after the other: the end marker of the command watch ("w" once per event) is reached after its
                // first event, so what a side prints before its interrupt depends on timing; run alone, each prints both.
                var expectedOut = await WatchUntilAsync("etcdctl", forEtcdctl, args, last, environment);
                var actualOut = await WatchUntilAsync("kvorum", forKvorum, args, last, environment);
                Compare(command, Replace(expectedOut, forEtcdctl.Names), Replace(actualOut, forKvorum.Names), differences);
                continue;
            }
            var (expected, actual) = await BothAsync(
                CliProcess.RunAsync("etcdctl", forEtcdctl.ClientUrl, environment, args), CliProcess.RunAsync("kvorum", forKvorum.ClientUrl, environment, args));
            if (expected.Code != actual.Code)
                differences.Add($"`{command}`: etcdctl exited {expected.Code}, kvorum {actual.Code} ({actual.Err.Trim()})");
            Compare(command + " (stderr)", UserLines(expected.Err), UserLines(actual.Err), differences);
        }
        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }

    [SkippableTheory]
    [MemberData(nameof(CliProcess.Tools), MemberType = typeof(CliProcess))]
    public async Task Interactive_watch_takes_watch_lines_with_their_commands_and_progress_lines_and_exits_3_at_the_end_of_its_input(string tool)
    {
        await using var server = await StartServerAsync();
        foreach (var step in WatchHistory)
            Assert.Equal(0, (await RunAsync("etcdctl", server, step)).Code);
        await using var watch = CliProcess.Start(tool, server.ClientUrl, stdin: true, "watch", "-i");
        await watch.WriteLineAsync("bogus line");
        await watch.WriteLineAsync("watch --rev=2 --prefix --prev-kv w/");
        await watch.WaitForOutputAsync(o => o.EndsWith("w/zz\nend\n", StringComparison.Ordinal), Patience, "the history of w/");
        // A line may end with -- COMMAND ARGS, run for each event as on the command line.
        await watch.WriteLineAsync("watch --rev=2 w/x -- echo ran");
        await watch.WaitForOutputAsync(o => o.EndsWith("end\nPUT\nw/x\n3\nran\n", StringComparison.Ordinal), Patience, "the command's output");
        await watch.WriteLineAsync("progress");
        await watch.WaitForOutputAsync(o => o.EndsWith("progress notify: 8\nprogress notify: 8\n", StringComparison.Ordinal), Patience, "two progress notifications");
        watch.CloseInput();

        Assert.Equal(3, await watch.ExitAsync(Patience));
        Assert.Equal("PUT\nw/x\n3\nPUT\nw/zz\nend\nPUT\nw/x\n3\nran\nprogress notify: 8\nprogress notify: 8\n", watch.Out);
        Assert.Contains("Invalid command bogus line (only support watch)", watch.Err, StringComparison.Ordinal);
        Assert.EndsWith("Error: Error reading watch request line: EOF\n", watch.Err, StringComparison.Ordinal);

        // A separator with no command after it ends the command, as etcdctl's argument errors do.
        await using var bad = CliProcess.Start(tool, server.ClientUrl, stdin: true, "watch", "-i");
        await bad.WriteLineAsync("watch w/ --");
        Assert.Equal(128, await bad.ExitAsync(Patience));
        Assert.Equal("Error: bad number of arguments (found separator --, but no commands)\n", bad.Err);
    }

    /// <summary>Runs a watch until its output ends with <paramref name="last"/>, interrupts it, and returns what it printed.</summary>
    private static async Task<string> WatchUntilAsync(string tool, IParityServer server, string[] args, string last, Dictionary<string, string>? environment = null)
    {
        await using var watch = CliProcess.Start(tool, server.ClientUrl, stdin: false, environment ?? [], args);
        await watch.WaitForOutputAsync(o => o.EndsWith(last, StringComparison.Ordinal), Patience, $"end of `{string.Join(' ', args)}`");
        await watch.SignalAsync();
        await watch.ExitAsync(Patience);
        return watch.Out;
    }

    private static void Compare(string command, string expected, string actual, List<string> differences)
    {
        if (expected != actual)
            differences.Add($"`{command}` printed\n  etcdctl: {Show(expected)}\n  kvorum:  {Show(actual)}");
    }
}
