using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Kvorum.Tests.Shared;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// etcdctl against a one-member <c>kvorum serve</c> and against a one-member etcd, with the same commands: membership
/// (and its errors), leadership transfer, alarms, defragmentation and compaction errors must answer alike: the same
/// success or failure, the same output on success and the same <c>Error:</c> line on failure. Ids, URLs and terms
/// are replaced by placeholders first (each server's own, and each new member's id as its <c>member add</c> printed it).
/// </summary>
public sealed partial class EtcdctlServerParityTests() : EtcdctlClusterTest(1)
{
    private const string Learner = "http://127.0.0.1:1";

    /// <summary>The commands; SELF is the member's own id (hex), PEER its peer URL, NEW0 the id the first add printed.</summary>
    private static readonly string[][] Script =
    [
        ["member", "list"],
        ["member", "list", "-w", "json"],
        ["member", "remove", "1234"],
        ["member", "update", "1234", "--peer-urls=http://127.0.0.1:2"],
        ["member", "promote", "1234"],
        ["member", "promote", "SELF"],
        ["member", "add", "x", "--peer-urls=PEER"],
        ["move-leader", "1234"],
        ["member", "add", "y", $"--peer-urls={Learner}", "--learner"],
        ["member", "add", "y3", "--peer-urls=http://127.0.0.1:4", "--learner"],
        // Not the same URLs alone: etcd's id hashes the second too, and the same URLs within a second are "member ID already exist".
        ["member", "add", "y2", $"--peer-urls={Learner},http://127.0.0.1:3"],
        ["member", "update", "SELF", $"--peer-urls={Learner}"],
        ["member", "update", "NEW0", "--peer-urls=PEER"],
        ["member", "remove", "NEW0"],
        ["member", "remove", "NEW0"],
        ["member", "list"],
        ["alarm", "list"],
        ["alarm", "disarm"],
        ["compaction", "1000"],
        ["get", "k", "--rev", "1000"],
        ["put", "k", "v", "--lease", "ab"],
        ["put", "missing", "--ignore-value"],
    ];

    [SkippableFact]
    public async Task Etcdctl_gets_the_same_answers_from_Kvorum_as_from_etcd()
    {
        EtcdServerProcess.Require();
        Etcdctl.Require();
        await using var etcd = new EtcdServerProcess(FreePorts.Next);
        var etcdNamesRead = NamesAsync(etcd.ClientUrl);
        var kvorumNames = await NamesAsync(Cluster.ClientUrl("m1"));
        var etcdNames = await etcdNamesRead;

        var differences = new List<string>();
        foreach (var step in Script)
        {
            // Each server gets the step at the same time: they share nothing.
            var expectedRun = RunAsync(etcd.ClientUrl, step, etcdNames);
            var actualRun = RunAsync(Cluster.ClientUrl("m1"), step, kvorumNames);
            await Task.WhenAll(expectedRun, actualRun);
            var (expectedCode, expectedOut, expectedErr) = await expectedRun;
            var (actualCode, actualOut, actualErr) = await actualRun;
            var command = string.Join(' ', step);
            if ((expectedCode == 0) != (actualCode == 0))
                differences.Add($"`{command}`: etcd's exit {expectedCode} ({expectedErr}), kvorum's {actualCode} ({actualErr})");
            else if (expectedCode == 0 && expectedOut != actualOut)
                differences.Add($"`{command}` printed\n  etcd:   {expectedOut.Replace("\n", "⏎", StringComparison.Ordinal)}\n  kvorum: {actualOut.Replace("\n", "⏎", StringComparison.Ordinal)}");
            else if (expectedCode != 0 && expectedErr != actualErr)
                differences.Add($"`{command}` failed with\n  etcd:   {expectedErr}\n  kvorum: {actualErr}");
        }
        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }

    /// <summary>Runs one command against one server; returns its exit code, its normalized output and its Error: line.</summary>
    private static async Task<(int Code, string Out, string Err)> RunAsync(string endpoint, string[] step, List<(string Value, string Placeholder)> names)
    {
        string[] args = [.. step.Select(a => Denormalize(a, names))];
        var (code, output, error) = await Etcdctl.RunAsync(endpoint, null, args);
        // A new member's id is known once `member add` prints it.
        if (MemberAdded().Match(output) is { Success: true } added)
            names.Insert(0, (added.Groups[1].Value, $"NEW{names.Count(n => n.Placeholder.StartsWith("NEW", StringComparison.Ordinal))}"));
        var errorLine = error.Split('\n').LastOrDefault(l => l.StartsWith("Error:", StringComparison.Ordinal))?.Trim() ?? "";
        return (code, Normalize(output, names), Normalize(errorLine, names));
    }

    /// <summary>The server's member and cluster ids, URLs and term, each with its placeholder.</summary>
    private static async Task<List<(string Value, string Placeholder)>> NamesAsync(string endpoint)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var (code, output, error) = await Etcdctl.RunAsync(endpoint, null, "endpoint", "status", "-w", "json");
            if (code == 0)
            {
                using var status = JsonDocument.Parse(output);
                var header = status.RootElement[0].GetProperty("Status").GetProperty("header");
                var (_, members, _) = await Etcdctl.RunAsync(endpoint, null, "member", "list", "-w", "json");
                using var list = JsonDocument.Parse(members);
                var self = list.RootElement.GetProperty("members")[0];
                var member = header.GetProperty("member_id").GetUInt64();
                return
                [
                    (header.GetProperty("cluster_id").GetUInt64().ToString(CultureInfo.InvariantCulture), "CLUSTER"),
                    (header.GetProperty("cluster_id").GetUInt64().ToString("x", CultureInfo.InvariantCulture), "CLUSTERHEX"),
                    (member.ToString(CultureInfo.InvariantCulture), "SELFDEC"),
                    (member.ToString("x", CultureInfo.InvariantCulture), "SELF"),
                    (self.GetProperty("peerURLs")[0].GetString()!, "PEER"),
                    (self.GetProperty("clientURLs")[0].GetString()!, "CLIENT"),
                    (self.GetProperty("name").GetString()!, "NAME"),
                ];
            }
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{endpoint} did not answer: {error}");
            await Task.Delay(100);
        }
    }

    private static string Normalize(string text, List<(string Value, string Placeholder)> names)
    {
        foreach (var (value, placeholder) in names)
            text = text.Replace(value, placeholder, StringComparison.Ordinal);
        // etcdctl prints ids as %16x, padded with spaces to 16 digits: how many depends on the id. It lists the
        // members in ETCD_INITIAL_CLUSTER in id order, and the ids differ: the entries are sorted.
        text = Padding().Replace(RaftTerm().Replace(text, "\"raft_term\":TERM"), "$1 ");
        return InitialCluster().Replace(text, m => $"ETCD_INITIAL_CLUSTER=\"{string.Join(',', m.Groups[1].Value.Split(',').Order(StringComparer.Ordinal))}\"");
    }

    private static string Denormalize(string arg, List<(string Value, string Placeholder)> names)
    {
        foreach (var (value, placeholder) in names.OrderByDescending(n => n.Placeholder.Length))
            arg = arg.Replace(placeholder, value, StringComparison.Ordinal);
        return arg;
    }

    [GeneratedRegex("Member +([0-9a-f]+) added to cluster")]
    private static partial Regex MemberAdded();

    [GeneratedRegex("(Member|cluster) +")]
    private static partial Regex Padding();

    [GeneratedRegex("ETCD_INITIAL_CLUSTER=\"([^\"]*)\"")]
    private static partial Regex InitialCluster();

    [GeneratedRegex("\"raft_term\":[0-9]+")]
    private static partial Regex RaftTerm();
}
