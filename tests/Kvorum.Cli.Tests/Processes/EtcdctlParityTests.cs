using System.Globalization;
using System.Text.Json;
using Kvorum.Tests.Shared;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// The <c>kvorum</c> client commands against etcd's own <c>etcdctl</c>, as scripts see them: two fresh one-member
/// etcd servers get the same commands in the same order, etcdctl's on one and kvorum's on the other, so both servers
/// pass through the same states, and each command must succeed or fail alike, print the same standard output when it
/// succeeds (simple lines and <c>-w json</c>), and fail with the same <c>Error:</c> line when the server refuses it. The two servers' cluster and
/// member ids and URLs are replaced by placeholders before comparing.
/// </summary>
public sealed class EtcdctlParityTests
{
    /// <summary>Each command as etcdctl 3.4 takes it, with what goes to its stdin (txn) if anything.</summary>
    private static readonly (string[] Args, string? Stdin)[] Script =
    [
        (["put", "a", "1"], null),
        (["put", "a/1", "x"], null),
        (["put", "a/2", "y", "--prev-kv"], null),
        (["put", "a/2", "z", "--prev-kv"], null),
        (["put", "a/2", "w", "--prev-kv", "-w", "json"], null),
        (["put", "b", ""], null),
        (["put", "c", "3", "-w", "json"], null),
        (["put", "quote", "<tag> & \"q\"\ttab"], null),
        (["put", "a/2", "--ignore-value", "--prev-kv"], null),
        (["put", "missing", "--ignore-value"], null),
        (["put", "a/3", "v", "--lease", "1a"], null),
        (["get", "a"], null),
        (["get", "a", "--prefix"], null),
        (["get", "a", "--prefix", "-w", "json"], null),
        (["get", "a", "--prefix", "--keys-only"], null),
        (["get", "a", "--prefix", "--keys-only", "-w", "json"], null),
        (["get", "", "--prefix", "--keys-only"], null),
        (["get", "a", "--prefix", "--limit", "1"], null),
        (["get", "a", "--prefix", "--limit", "1", "-w", "json"], null),
        (["get", "a", "--from-key"], null),
        (["get", "a", "c"], null),
        (["get", "a", "--prefix", "--print-value-only"], null),
        (["get", "a", "--prefix", "--sort-by=VALUE", "--order=DESCEND"], null),
        (["get", "a", "--prefix", "--sort-by=MODIFY", "--limit", "2"], null),
        (["get", "a", "--prefix", "--sort-by=CREATE", "--order=ASCEND"], null),
        (["get", "a", "--prefix", "--sort-by=version", "--order=descend", "-w", "json"], null),
        (["get", "a", "--prefix", "--order=DESCEND"], null),
        (["get", "a", "--rev", "3"], null),
        (["get", "a", "--prefix", "--consistency=s"], null),
        (["get", "b", "-w", "json"], null),
        (["get", "quote", "-w", "json"], null),
        (["get", "missing"], null),
        (["get", "missing", "-w", "json"], null),
        (["get", "a", "--rev", "999"], null),
        (["get", "a", "--print-values"], null),
        (["txn"], "value(\"a\") = \"1\"\nmod(\"a/1\") > \"0\"\n\nput t 1\nget a --prefix\ndel c\n\nput f 1\n\n"),
        (["txn"], "version(\"a\") = \"7\"\n\nput t 2\n\nget a\nput f 2\n\n"),
        (["txn", "-w", "json"], "create(\"a\") > \"0\"\n\nget a/1\nput t 3\n\n\n"),
        (["txn", "-w", "json"], "value(\"zz\") = \"1\"\n\n\nput f 3\ndel t\n\n"),
        (["txn"], "\nput f 4 --prev-kv\nget a --prefix --limit 1\nget a --from-key --keys-only\ndel t --prev-kv\nget a --prefix --sort-by=MODIFY --order=DESCEND\nget a --rev 2\n\n\n"),
        (["txn"], "\nput f --ignore-value --prev-kv\nget a --prefix --print-value-only --consistency=s\n\n\n"),
        (["txn"], "\nput g 1 --lease=ab\n\n\n"),
        (["del", "a/1", "--prev-kv"], null),
        (["del", "missing"], null),
        (["del", "b", "--prev-kv", "-w", "json"], null),
        (["del", "a", "--prefix", "-w", "json"], null),
        (["compaction", "3"], null),
        (["compaction", "3"], null),
        (["compaction", "999"], null),
        (["get", "a", "--rev", "2"], null),
        (["member", "list"], null),
        (["member", "list", "-w", "json"], null),
        (["member", "list", "-w", "table"], null),
        (["alarm", "list"], null),
        (["alarm", "list", "-w", "json"], null),
        (["endpoint", "status"], null),
        (["endpoint", "status", "-w", "json"], null),
        (["endpoint", "hashkv"], null),
        (["endpoint", "hashkv", "-w", "json"], null),
        (["defrag"], null),
        (["endpoint", "status", "--cluster"], null),
        (["endpoint", "status", "--cluster", "-w", "json"], null),
        (["endpoint", "hashkv", "--cluster"], null),
        (["defrag", "--cluster"], null),
    ];

    [SkippableFact]
    public async Task Kvorum_prints_what_etcdctl_prints()
    {
        EtcdServerProcess.Require();
        Etcdctl.Require();
        // The two servers start at once; if either cannot, the other is stopped.
        Task<(EtcdServerProcess Server, (string Value, string Placeholder)[] Names)>[] starting = [StartServerAsync(), StartServerAsync()];
        try
        {
            await Task.WhenAll(starting);
        }
        catch
        {
            foreach (var started in starting.Where(t => t.IsCompletedSuccessfully))
                await started.Result.Server.DisposeAsync();
            throw;
        }
        var (forEtcdctl, etcdctlNames) = starting[0].Result;
        await using var etcdctlServer = forEtcdctl;
        var (forKvorum, kvorumNames) = starting[1].Result;
        await using var kvorumServer = forKvorum;

        var differences = new List<string>();
        foreach (var (args, stdin) in Script)
        {
            // Each side's step on its own server, both at once.
            var expectedRun = Etcdctl.RunAsync(forEtcdctl.ClientUrl, stdin, args);
            var actualRun = new CliRun { Stdin = stdin ?? "" }.RunAsync(["--endpoints", forKvorum.ClientUrl, .. args]);
            await Task.WhenAll(expectedRun, actualRun);
            var (expectedCode, expectedOut, expectedErr) = await expectedRun;
            var (actualCode, actualOut, actualErr) = await actualRun;
            var command = string.Join(' ', args);
            if ((expectedCode == 0) != (actualCode == 0))
                differences.Add($"`{command}`: etcdctl exited {expectedCode}, kvorum {actualCode} ({actualErr.Trim()})");
            var expected = Normalize(expectedOut, etcdctlNames);
            var actual = Normalize(actualOut, kvorumNames);
            // On a usage error etcdctl prints its help to stdout; kvorum prints one line to stderr.
            if (expected != actual && expectedCode == 0)
                differences.Add($"`{command}` printed\n  etcdctl: {expected.Replace("\n", "⏎", StringComparison.Ordinal)}\n  kvorum:  {actual.Replace("\n", "⏎", StringComparison.Ordinal)}");
            if (expectedCode != 0 && ErrorLine(expectedErr) is { } expectedError && expectedError.StartsWith("Error: etcdserver", StringComparison.Ordinal)
                && ErrorLine(actualErr) != expectedError)
                differences.Add($"`{command}` failed with\n  etcdctl: {expectedError}\n  kvorum:  {ErrorLine(actualErr)}");
        }
        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }

    /// <summary>The last <c>Error:</c> line (etcdctl also logs its client's retries to stderr).</summary>
    private static string? ErrorLine(string stderr) =>
        stderr.Split('\n').LastOrDefault(l => l.StartsWith("Error:", StringComparison.Ordinal))?.Trim();

    /// <summary>
    /// A server whose member id prints in 16 hex digits. The ids come from the servers' random ports, and one in 16
    /// prints in 15: its column of <c>member list -w table</c> is then a character narrower than the other server's,
    /// which the placeholders cannot hide.
    /// </summary>
    private static async Task<(EtcdServerProcess Server, (string Value, string Placeholder)[] Names)> StartServerAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            var server = new EtcdServerProcess(FreePorts.Next);
            var names = await PlaceholdersAsync(server);
            if (names.Single(n => n.Placeholder == "MEMBERHEX").Value.Length == 16 || attempt == 5)
                return (server, names);
            await server.DisposeAsync();
        }
    }

    /// <summary>Waits for the server and returns its ids and URLs, each with the placeholder that replaces it.</summary>
    private static async Task<(string Value, string Placeholder)[]> PlaceholdersAsync(EtcdServerProcess server)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var (code, output, error) = await Etcdctl.RunAsync(server.ClientUrl, null, "endpoint", "status", "-w", "json");
            if (code == 0)
            {
                using var json = JsonDocument.Parse(output);
                var header = json.RootElement[0].GetProperty("Status").GetProperty("header");
                var cluster = header.GetProperty("cluster_id").GetUInt64();
                var member = header.GetProperty("member_id").GetUInt64();
                var (_, members, _) = await Etcdctl.RunAsync(server.ClientUrl, null, "member", "list", "-w", "json");
                using var list = JsonDocument.Parse(members);
                var peer = list.RootElement.GetProperty("members")[0].GetProperty("peerURLs")[0].GetString()!;
                return
                [
                    (cluster.ToString(CultureInfo.InvariantCulture), "CLUSTER"),
                    (member.ToString(CultureInfo.InvariantCulture), "MEMBER"),
                    (member.ToString("x", CultureInfo.InvariantCulture), "MEMBERHEX"),
                    (server.ClientUrl, "CLIENTURL"),
                    (peer, "PEERURL"),
                ];
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"etcd did not answer: {error}\n{server.Output}");
            await Task.Delay(100);
        }
    }

    private static string Normalize(string output, (string Value, string Placeholder)[] names)
    {
        foreach (var (value, placeholder) in names)
            output = output.Replace(value, placeholder, StringComparison.Ordinal);
        // Two etcd servers that took the same requests may still differ in the size of their bbolt file, and in how
        // much of it is in use (bbolt commits its batches on a timer, so the pages a run leaves free vary).
        output = System.Text.RegularExpressions.Regex.Replace(output, "\"dbSize(InUse)?\":[0-9]+", "\"dbSize$1\":SIZE");
        return System.Text.RegularExpressions.Regex.Replace(output, ", [0-9.]+ [kMG]?B, ", ", SIZE, ");
    }
}
