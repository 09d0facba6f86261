using Kvorum.Lab.Checking;
using Kvorum.Lab.Jepsen;
using Kvorum.Lab.Nodes;
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
        }
        finally
        {
            LabControl.Down(settings.Lab.Directory, TextWriter.Null, keepData: false);
        }
        File.Delete(settings.HistoryPath);
        RootLab.Discard(settings.Lab.Directory);
    }
}
