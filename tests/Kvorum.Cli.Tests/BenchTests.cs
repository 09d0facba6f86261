using Kvorum.Tests.Shared;
using System.Text.Json;
using Kvorum.Cli.Bench;

namespace Kvorum.Cli.Tests;

public class BenchTests
{
    [Theory]
    [InlineData("--clients must be at least 1, got 0", "put", "--clients", "0")]
    [InlineData("--conns must be at least 1, got 0", "put", "--conns", "0")]
    [InlineData("--conns (2) must not exceed --clients (1)", "put", "--conns", "2")]
    [InlineData("--total and --duration cannot be used together", "put", "--total", "5", "--duration", "1s")]
    [InlineData("--total must be at least 1, got 0", "put", "--total", "0")]
    [InlineData("--duration must be a positive duration such as 500ms, 2s or 1m, got \"soon\"", "put", "--duration", "soon")]
    [InlineData("--warmup must be a positive duration such as 500ms, 2s or 1m, got \"-1s\"", "put", "--warmup", "-1s")]
    [InlineData("--key-space must be at least 1, got 0", "put", "--key-space", "0")]
    [InlineData("--key-size 3 is too small for --key-space 100000 (needs 5)", "put", "--key-size", "3")]
    [InlineData("--value-size must not be negative, got -1", "put", "--value-size", "-1")]
    [InlineData("--linearizable and --serializable cannot be used together", "range", "--linearizable", "--serializable")]
    [InlineData("--consistency cannot be combined with --linearizable or --serializable", "range", "--consistency", "s", "--serializable")]
    public async Task Bad_arguments_exit_2_with_one_line(string message, string kind, params string[] args)
    {
        var (code, output, err) = await CliRun.Run(["bench", kind, .. args, "--endpoints", "127.0.0.1:1"]);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", output);
        Assert.Equal($"kvorum bench {kind}: {message}\n", err);
    }

    [Fact]
    public async Task Put_bench_has_no_consistency_flag()
    {
        var (code, _, err) = await CliRun.Run("bench", "put", "--serializable");

        Assert.Equal(ExitCodes.Usage, code);
        Assert.StartsWith("kvorum bench put: Unrecognized command or argument '--serializable'", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Keys_are_zero_padded_numbers()
    {
        var settings = new BenchSettings { Kind = BenchKind.Put, Endpoints = [], KeySize = 8 };
        Assert.Equal("00000042", settings.KeyOf(42));
    }

    [Fact]
    public async Task Put_and_range_runs_against_a_fake_server_report_json()
    {
        await using var server = await FakeEtcdServer.StartAsync();
        var run = new CliRun();

        var (code, output, err) = await run.RunAsync("bench", "put", "--endpoints", server.Endpoint, "--clients", "4", "--conns", "2", "--total", "200", "--key-space", "50", "-w", "json");

        Assert.True(code == 0, err);
        using (var json = JsonDocument.Parse(output))
        {
            Assert.Equal(200, json.RootElement.GetProperty("total").GetInt64());
            Assert.Equal(200, json.RootElement.GetProperty("succeeded").GetInt64());
            Assert.True(json.RootElement.GetProperty("latency_ms").GetProperty("p99").GetDouble() > 0);
            // The process's CPU over the run (here it also serves the fake server, so only > 0 is certain).
            Assert.True(json.RootElement.GetProperty("client_cpu_us_per_op").GetDouble() > 0);
        }

        Assert.InRange(server.Store.Keys.Count, 1, 50);

        // A warm-up sends the same requests first and leaves them out of the summary.
        var before = server.Store.Revision;
        (code, output, err) = await run.RunAsync("bench", "put", "--endpoints", server.Endpoint, "--warmup", "300ms", "--total", "50", "-w", "json");
        Assert.True(code == 0, err);
        Assert.Contains("warming up for 0.3s (not measured)", err, StringComparison.Ordinal);
        Assert.Contains("bench: warm-up done, measuring", err, StringComparison.Ordinal);
        using (var json = JsonDocument.Parse(output))
            Assert.Equal(50, json.RootElement.GetProperty("succeeded").GetInt64());
        Assert.True(server.Store.Revision - before > 50, $"{server.Store.Revision - before} puts reached the server: the warm-up sent none");

        (code, output, err) = await run.RunAsync("bench", "range", "--endpoints", server.Endpoint, "--duration", "300ms", "--consistency", "s");
        Assert.True(code == 0, err);
        Assert.Contains("Summary (range):", output, StringComparison.Ordinal);
        Assert.Contains("p99.9", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requests_that_never_answer_count_as_deadline_exceeded_after_the_command_timeout_without_a_grpc_deadline()
    {
        await using var server = await FakeEtcdServer.StartAsync();
        server.Store.HangPuts = true;
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var (code, output, err) = await CliRun.Run(
            "bench", "put", "--endpoints", server.Endpoint, "--clients", "2", "--conns", "1", "--total", "2", "--command-timeout", "3s", "-w", "json");

        Assert.True(code == 1, err); // nothing succeeded
        using var json = JsonDocument.Parse(output);
        Assert.Equal(0, json.RootElement.GetProperty("succeeded").GetInt64());
        Assert.Equal(2, json.RootElement.GetProperty("errors_by_status").GetProperty("DeadlineExceeded").GetInt64());
        // Two loops, one request each, 3 s apiece (the watchdog looks every 100 ms). The command timeout also bounds
        // the probe before the run, whose first call on a new connection took over a second in a busy test run.
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2.9), TimeSpan.FromSeconds(20));
        // The requests carried no deadline for the server to keep.
        Assert.Equal(0, server.Store.DeadlinesSeen);
    }

    [Fact]
    public async Task A_bench_against_nothing_fails_in_one_line()
    {
        var port = FreePorts.Next();
        var (code, _, err) = await CliRun.Run("bench", "put", "--endpoints", $"127.0.0.1:{port}", "--total", "10");

        Assert.Equal(1, code);
        Assert.StartsWith($"Error: endpoint 127.0.0.1:{port} is unreachable", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Summary_text_lists_percentiles_and_errors()
    {
        var latencies = new LatencyHistogram();
        latencies.RecordMicroseconds(1500);
        var summary = new BenchSummary
        {
            Kind = BenchKind.Put,
            Succeeded = 1,
            Errors = new Dictionary<Grpc.Core.StatusCode, long> { [Grpc.Core.StatusCode.Unavailable] = 2 },
            Elapsed = TimeSpan.FromSeconds(2),
            Latencies = latencies,
            ClientCpu = TimeSpan.FromMicroseconds(300),
        };

        var text = summary.ToText();
        using var json = JsonDocument.Parse(summary.ToJson());
        Assert.Equal(100.0, json.RootElement.GetProperty("client_cpu_us_per_op").GetDouble());

        Assert.Contains("Total:      3 requests, 2 errors", text, StringComparison.Ordinal);
        Assert.Contains("Throughput: 0.5 ops/s", text, StringComparison.Ordinal);
        Assert.Contains("p50 1.500 ms", text, StringComparison.Ordinal);
        Assert.Contains("Error Unavailable: 2", text, StringComparison.Ordinal);
        Assert.Contains("Client CPU: 100.0 µs/op", text, StringComparison.Ordinal);
    }
}
