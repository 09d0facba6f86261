using System.Text.RegularExpressions;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>The lease commands.</summary>
public abstract partial class EtcdctlParityWatchLeaseTests
{
    /// <summary>
    /// Each lease command as etcdctl 3.4 takes it; <c>{L1}</c> stands for the id the side's own grant named
    /// <c>L1</c> got. The 1 s lease comes last, as it expires two seconds later.
    /// </summary>
    private static readonly (string[] Args, string? Grants)[] LeaseScript =
    [
        (["lease", "grant", "100"], "L1"),
        (["lease", "grant", "200", "-w", "json"], "L2"),
        (["lease", "grant", "9000000001"], null),
        (["put", "--lease={L1}", "lk0", "v"], null),
        (["put", "--lease={L1}", "lk1", "v"], null),
        (["lease", "timetolive", "{L1}"], null),
        (["lease", "timetolive", "{L1}", "--keys"], null),
        (["lease", "timetolive", "{L1}", "--keys", "-w", "json"], null),
        (["lease", "timetolive", "{L2}", "-w", "json"], null),
        (["lease", "timetolive", "1234abcd"], null),
        (["lease", "timetolive", "1234abcd", "-w", "json"], null),
        (["lease", "keep-alive", "--once", "{L1}"], null),
        (["lease", "keep-alive", "--once", "{L2}", "-w", "json"], null),
        (["lease", "keep-alive", "--once", "1234abcd"], null),
        (["lease", "keep-alive", "1234abcd"], null),
        (["lease", "list"], null),
        (["lease", "list", "-w", "json"], null),
        (["lease", "revoke", "{L2}", "-w", "json"], null),
        (["lease", "revoke", "{L1}"], null),
        (["lease", "revoke", "{L1}"], null),
        (["get", "lk", "--prefix"], null),
        (["lease", "timetolive", "{L1}"], null),
        (["lease", "list", "-w", "json"], null),
        (["lease", "grant", "1"], "L3"),
    ];

    [SkippableFact]
    public async Task Lease_commands_print_what_etcdctl_prints()
    {
        var (etcdctlServer, kvorumServer) = await StartTwoServersAsync();
        await using var forEtcdctl = etcdctlServer;
        await using var forKvorum = kvorumServer;
        var etcdctlLeases = new Dictionary<string, long>();
        var kvorumLeases = new Dictionary<string, long>();
        var differences = new List<string>();
        foreach (var (script, grants) in LeaseScript)
        {
            // Each side's step on its own server, both at once.
            var (expected, actual) = await BothAsync(RunAsync("etcdctl", forEtcdctl, Bind(script, etcdctlLeases)), RunAsync("kvorum", forKvorum, Bind(script, kvorumLeases)));
            if (grants is not null)
            {
                etcdctlLeases[grants] = GrantedId(expected.Out);
                kvorumLeases[grants] = GrantedId(actual.Out);
            }
            var command = string.Join(' ', script);
            if (expected.Code != actual.Code)
                differences.Add($"`{command}`: etcdctl exited {expected.Code}, kvorum {actual.Code} ({actual.Err.Trim()})");
            var expectedOut = NormalizeLease(expected.Out, forEtcdctl, etcdctlLeases);
            var actualOut = NormalizeLease(actual.Out, forKvorum, kvorumLeases);
            if (expectedOut != actualOut)
                differences.Add($"`{command}` printed\n  etcdctl: {Show(expectedOut)}\n  kvorum:  {Show(actualOut)}");
            if (expected.Code != 0 && ErrorLine(expected.Err) != ErrorLine(actual.Err))
                differences.Add($"`{command}` failed with\n  etcdctl: {ErrorLine(expected.Err)}\n  kvorum:  {ErrorLine(actual.Err)}");
        }
        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }

    [SkippableTheory]
    [MemberData(nameof(CliProcess.Tools), MemberType = typeof(CliProcess))]
    public async Task Lease_keep_alive_prints_each_renewal_and_ends_when_the_lease_is_revoked(string tool)
    {
        await using var server = await StartServerAsync();
        var lease = GrantedId((await RunAsync("etcdctl", server, "lease", "grant", "10")).Out);
        var hex = lease.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
        await using var keepAlive = CliProcess.Start(tool, server.ClientUrl, stdin: false, "lease", "keep-alive", hex);
        // A 10 s lease is renewed every third of it: a second renewal shows that it goes on (and the lease outlives a
        // slow start of the process).
        await keepAlive.WaitForOutputAsync(o => Regex.Count(o, "keepalived") >= 2, Patience, "second renewal");
        Assert.Equal(0, (await RunAsync("etcdctl", server, "lease", "revoke", hex)).Code);
        Assert.Equal(0, await keepAlive.ExitAsync(Patience));
        var lines = keepAlive.Out.TrimEnd('\n').Split('\n');
        Assert.All(lines[..^1], l => Assert.Equal($"lease {hex} keepalived with TTL(10)", l));
        Assert.Equal($"lease {hex} expired or revoked.", lines[^1]);
    }

    private static string[] Bind(string[] script, Dictionary<string, long> leases) =>
        [.. script.Select(a => Regex.Replace(a, "\\{(L[0-9])\\}", m => leases[m.Groups[1].Value].ToString("x16", System.Globalization.CultureInfo.InvariantCulture)))];

    /// <summary>
    /// Placeholders for the ids; the remaining TTL as N (the two tools take different times to start); and the
    /// orders etcd leaves to chance (a lease's keys come in Go map order) or to timing (the list, by time left) sorted.
    /// </summary>
    private static string NormalizeLease(string output, IParityServer server, Dictionary<string, long> leases)
    {
        output = Replace(output, [.. server.Names, .. leases.SelectMany(l => LeaseNames(l.Key, l.Value))]);
        output = Regex.Replace(output, "remaining\\([0-9]+s\\)", "remaining(Ns)");
        output = Regex.Replace(output, "\"ttl\":[0-9]+", "\"ttl\":N");
        output = Regex.Replace(output, "attached keys\\(\\[([^]]*)\\]\\)", m => $"attached keys([{string.Join(' ', m.Groups[1].Value.Split(' ').Order(StringComparer.Ordinal))}])");
        output = Regex.Replace(output, "\"(keys|leases)\":\\[([^]]*)\\]", m => $"\"{m.Groups[1].Value}\":[{string.Join(',', m.Groups[2].Value.Split(',').Order(StringComparer.Ordinal))}]");
        if (output.StartsWith("found ", StringComparison.Ordinal))
        {
            var lines = output.TrimEnd('\n').Split('\n');
            output = string.Join('\n', [lines[0], .. lines[1..].Order(StringComparer.Ordinal)]) + "\n";
        }
        return output;
    }
}
