using Kvorum.Lab.Checking;
using Kvorum.Lab.Faults;
using Kvorum.Lab.Jepsen;
using Kvorum.Lab.Nodes;
using Kvorum.Tests.Shared;
using Xunit.Abstractions;

namespace Kvorum.Lab.Tests.Namespaces;

/// <summary>
/// The Jepsen-style check on a lab brought up with <c>--tls</c>: every member serves clients and peers over mutual TLS
/// (https URLs, the lab's throwaway CA), and the history under faults is still linearizable with every replica equal.
/// </summary>
[Collection(LabNamespacesGroup.Name)]
public class TlsLabCheckTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task A_history_under_faults_over_mutual_TLS_is_linearizable_and_the_members_serve_only_https()
    {
        RootLab.Require();
        var settings = new CheckSettings
        {
            Lab = RootLab.Options("kvtt", 47, 3) with { Tls = true },
            Duration = TimeSpan.FromSeconds(15),
            Recovery = TimeSpan.FromSeconds(3),
            Seed = 7,
            HistoryPath = Path.Combine(Path.GetTempPath(), $"kvorum-tls-{Guid.NewGuid():N}.jsonl"),
            Keep = true,
        };
        var report = new StringWriter();
        bool passed;
        try
        {
            passed = await JepsenCheck.RunAsync(settings, report, CancellationToken.None);
        }
        finally
        {
            output.WriteLine(report.ToString());
        }

        try
        {
            Assert.True(passed, report.ToString());
            Assert.Matches(@"faults: [1-9]\d* \(", report.ToString());
            Assert.Contains("replicas: all 3 members hold the same history at revision", report.ToString(), StringComparison.Ordinal);
            var tls = LabTls.In(settings.Lab.Directory);
            Assert.True(File.Exists(tls.CaFile), "no CA in the lab's tls directory");
            var args = File.ReadAllText(Path.Combine(settings.Lab.Directory, "state.json"));
            Assert.Contains("\"tls\": true", args, StringComparison.Ordinal);
            // The members were started with https URLs and client-cert auth, as their logs say.
            var log = File.ReadAllText(Path.Combine(settings.Lab.Directory, "n1.log"));
            Assert.Contains("serving clients on https://", log, StringComparison.Ordinal);
            Assert.DoesNotContain("serving clients on http://", log, StringComparison.Ordinal);

            // The view over this lab dials the members with the lab's CA and client certificate: its event stream
            // relays each member's state.
            using (var control = LabControl.Open(settings.Lab.Directory))
            {
                var (url, why) = control.StartView($"127.0.0.1:{FreePorts.Next()}");
                Assert.True(url is not null, why);
                var seen = new HashSet<string>(StringComparer.Ordinal);
                await ReadViewAsync(url!, (endpoint, _) =>
                {
                    seen.Add(endpoint);
                    return seen.Count == 3;
                }, TimeSpan.FromSeconds(20));
                output.WriteLine($"the view over TLS relays the state of {string.Join(", ", seen)}");
                Assert.Equal(3, seen.Count);

                // An isolated member reports its own fault state in its event stream, which the view relays.
                control.AddFault(Fault.Isolate(1));
                var n1 = control.Layout.Node(1).Address.ToString();
                var reported = "";
                await ReadViewAsync(url!, (endpoint, state) =>
                {
                    if (endpoint.StartsWith(n1 + ":", StringComparison.Ordinal))
                        reported = state.GetProperty("labFaults").GetString() ?? "";
                    return reported.Contains("isolate", StringComparison.Ordinal);
                }, TimeSpan.FromSeconds(20));
                output.WriteLine($"n1 reports its fault state: {reported}");
                Assert.Contains("isolate 1", reported, StringComparison.Ordinal);
            }
        }
        finally
        {
            LabControl.Down(settings.Lab.Directory, TextWriter.Null, keepData: false);
        }
        File.Delete(settings.HistoryPath);
        RootLab.Discard(settings.Lab.Directory);
    }

    // Reads the view's event stream, handing each relayed member state to `done` (its endpoint and state), until it
    // returns true or the time is up.
    private static async Task ReadViewAsync(Uri url, Func<string, System.Text.Json.JsonElement, bool> done, TimeSpan within)
    {
        using var http = new HttpClient();
        using var timeout = new CancellationTokenSource(within);
        try
        {
            using var stream = await http.GetStreamAsync(new Uri(url, "events"), timeout.Token);
            using var reader = new StreamReader(stream);
            while (await reader.ReadLineAsync(timeout.Token) is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal))
                    continue;
                using var json = System.Text.Json.JsonDocument.Parse(line["data: ".Length..]);
                if (json.RootElement.TryGetProperty("event", out var e) && e.TryGetProperty("state", out var state)
                    && done(json.RootElement.GetProperty("endpoint").GetString()!, state))
                    return;
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
