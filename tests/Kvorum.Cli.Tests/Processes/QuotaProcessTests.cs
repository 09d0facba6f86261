using Kvorum.Etcd.Errors;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// <c>kvorum serve --quota-backend-bytes</c> driven by etcdctl 3.4 as a user of etcd would: a put over the quota
/// fails with etcd's error, <c>alarm list</c> and <c>endpoint status</c> show NOSPACE, and after a compaction
/// <c>alarm disarm</c> lets writes through again.
/// </summary>
public sealed class QuotaProcessTests() : EtcdctlClusterTest(1, "--quota-backend-bytes", "20000")
{
    [SkippableFact]
    public async Task Etcdctl_sees_the_NOSPACE_alarm_and_disarms_it_after_a_compaction()
    {
        Etcdctl.Require();
        // Three keys overwritten with 1000-byte values: each put keeps a version of about 1 KB until compacted.
        var value = new string('v', 1000);
        (int Code, string Out, string Err) put = default;
        var written = 0;
        for (; written < 40; written++)
        {
            put = await Ctl("put", $"k{written % 3}", value);
            if (put.Code != 0)
                break;
        }
        Assert.InRange(written, 15, 20);
        Assert.Contains($"Error: {EtcdErrors.NoSpace.Message}", put.Err, StringComparison.Ordinal);

        var list = await Ctl("alarm", "list");
        Assert.Matches(@"^memberID:\d+ alarm:NOSPACE\s*$", list.Out);
        var status = await Ctl("endpoint", "status", "-w", "json");
        Assert.Contains("alarm:NOSPACE", status.Out, StringComparison.Ordinal);

        // Reads go on; compacting frees the history, but writes wait for the alarm to be disarmed.
        Assert.Equal(value, (await Ctl("get", "k0", "--print-value-only")).Out.Trim());
        var revision = System.Text.Json.JsonDocument.Parse((await Ctl("get", "k0", "-w", "json")).Out).RootElement
            .GetProperty("header").GetProperty("revision").GetInt64();
        Assert.Equal(0, (await Ctl("compaction", revision.ToString(System.Globalization.CultureInfo.InvariantCulture))).Code);
        Assert.NotEqual(0, (await Ctl("put", "after", "compaction")).Code);

        var disarm = await Ctl("alarm", "disarm");
        Assert.Equal(0, disarm.Code);
        Assert.Contains("alarm:NOSPACE", disarm.Out, StringComparison.Ordinal);
        Assert.Equal("OK", (await Ctl("put", "after", "disarm")).Out.Trim());
        Assert.Equal("", (await Ctl("alarm", "list")).Out.Trim());
    }
}
