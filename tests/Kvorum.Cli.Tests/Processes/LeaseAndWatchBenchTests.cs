using System.Text.Json;
using Kvorum.Tests.Shared;

namespace Kvorum.Cli.Tests.Processes;

/// <summary>
/// <c>kvorum bench lease-grant|lease-keepalive|watch</c> against a real etcd: the load generator must measure
/// etcd as it measures Kvorum, so it is checked against the reference first.
/// </summary>
public sealed class LeaseAndWatchBenchTests
{
    [Theory]
    [InlineData("--watchers must be at least 1, got 0", "--watchers", "0")]
    [InlineData("--streams (20) must not exceed --watchers (10)", "--watchers", "10", "--streams", "20")]
    [InlineData("--conns (3) must not exceed --streams (2)", "--watchers", "10", "--streams", "2", "--conns", "3")]
    [InlineData("--keys must be at least 1, got 0", "--keys", "0")]
    [InlineData("--put-rate must not be negative, got -5", "--put-rate", "-5")]
    [InlineData("--value-size must be at least 8 (the send time it carries), got 4", "--value-size", "4")]
    [InlineData("--idle must be a positive duration such as 500ms, 2s or 1m, got \"x\"", "--idle", "x")]
    [InlineData("--warmup must be a positive duration such as 500ms, 2s or 1m, got \"x\"", "--warmup", "x")]
    public async Task Bad_watch_bench_arguments_exit_2_with_one_line(string message, params string[] args)
    {
        var (code, output, err) = await CliRun.Run(["bench", "watch", .. args, "--endpoints", "127.0.0.1:1"]);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", output);
        Assert.Equal($"kvorum bench watch: {message}\n", err);
    }

    [Theory]
    [InlineData("lease-grant", "--key-space")]
    [InlineData("lease-keepalive", "--value-size")]
    public async Task Lease_benches_take_a_ttl_and_no_key_flags(string kind, string keyFlag)
    {
        var (code, _, err) = await CliRun.Run("bench", kind, keyFlag, "5", "--endpoints", "127.0.0.1:1");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.StartsWith($"kvorum bench {kind}: Unrecognized command or argument '{keyFlag}'", err, StringComparison.Ordinal);

        (code, _, err) = await CliRun.Run("bench", kind, "--ttl", "0", "--endpoints", "127.0.0.1:1");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal($"kvorum bench {kind}: --ttl must be at least 1, got 0\n", err);
    }

    [SkippableFact]
    public async Task Lease_grant_and_keep_alive_benches_measure_etcd()
    {
        EtcdServerProcess.Require();
        await using var etcd = new EtcdServerProcess(FreePorts.Next);
        await WaitReadyAsync(etcd);

        var (code, output, err) = await CliRun.Run("bench", "lease-grant", "--endpoints", etcd.ClientUrl, "--clients", "4", "--total", "200", "--ttl", "120", "-w", "json");
        Assert.True(code == 0, err);
        using (var json = JsonDocument.Parse(output))
        {
            Assert.Equal("lease-grant", json.RootElement.GetProperty("kind").GetString());
            Assert.Equal(200, json.RootElement.GetProperty("succeeded").GetInt64());
        }

        // Every grant made a lease of its own.
        using (var channel = Grpc.Net.Client.GrpcChannel.ForAddress(etcd.ClientUrl))
        {
            var leases = await new Etcd.Api.Lease.LeaseClient(channel).LeaseLeasesAsync(new Etcd.Api.LeaseLeasesRequest());
            Assert.Equal(200, leases.Leases.Count);
        }

        (code, output, err) = await CliRun.Run("bench", "lease-keepalive", "--endpoints", etcd.ClientUrl, "--clients", "4", "--total", "400", "-w", "json");
        Assert.True(code == 0, err);
        using (var json = JsonDocument.Parse(output))
        {
            Assert.Equal(400, json.RootElement.GetProperty("succeeded").GetInt64());
            Assert.Equal(0, json.RootElement.GetProperty("errors").GetInt64());
        }
    }

    [SkippableFact]
    public async Task Watch_bench_gets_every_event_from_etcd_once()
    {
        EtcdServerProcess.Require();
        await using var etcd = new EtcdServerProcess(FreePorts.Next);
        await WaitReadyAsync(etcd);

        var (code, output, err) = await CliRun.Run(
            "bench", "watch", "--endpoints", etcd.ClientUrl, "--watchers", "60", "--streams", "3", "--keys", "4", "--put-rate", "50", "--duration", "1s",
            "--warmup", "1s", "-w", "json");

        Assert.True(code == 0, err + output);
        // The warm-up's own watchers and puts are not reported: one "watchers open" line, after the warm-up.
        var warmedAt = err.IndexOf("bench watch: warm-up done, measuring", StringComparison.Ordinal);
        Assert.True(warmedAt >= 0, err);
        Assert.Equal(warmedAt, err.LastIndexOf("bench watch: warm-up done", StringComparison.Ordinal));
        Assert.True(err.IndexOf("bench watch: 60 watchers open on 3 streams", StringComparison.Ordinal) > warmedAt, err);
        Assert.Equal(1, err.Split("watchers open").Length - 1);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        var puts = root.GetProperty("puts").GetInt64();
        Assert.InRange(puts, 40, 50);
        // 4 keys, 15 watchers each: every acknowledged put owes 15 events.
        Assert.Equal(puts * 15, root.GetProperty("events_expected").GetInt64());
        Assert.Equal(puts * 15, root.GetProperty("events_delivered").GetInt64());
        Assert.Equal(0, root.GetProperty("events_missing").GetInt64());
        Assert.Equal(0, root.GetProperty("events_unexpected").GetInt64());
        Assert.True(root.GetProperty("latency_from_send_ms").GetProperty("p50").GetDouble() > 0);
    }

    private static async Task WaitReadyAsync(EtcdServerProcess etcd)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var (code, _, err) = await CliRun.Run("--endpoints", etcd.ClientUrl, "--dial-timeout", "1s", "endpoint", "status");
            if (code == 0)
                return;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"etcd did not start: {err}\n{etcd.Output}");
            await Task.Delay(200);
        }
    }
}
