using System.Globalization;
using System.Text;
using System.Text.Json;
using Grpc.Core;

namespace Kvorum.Cli.Bench;

/// <summary>The outcome of a benchmark: counts, duration, throughput, latency percentiles and errors.</summary>
internal sealed record BenchSummary
{
    /// <summary>The request kind.</summary>
    public required BenchKind Kind { get; init; }

    /// <summary>Requests that succeeded.</summary>
    public required long Succeeded { get; init; }

    /// <summary>Failed requests by gRPC status.</summary>
    public required IReadOnlyDictionary<StatusCode, long> Errors { get; init; }

    /// <summary>Wall time from the first request to the last answer.</summary>
    public required TimeSpan Elapsed { get; init; }

    /// <summary>The latencies of the successful requests.</summary>
    public required LatencyHistogram Latencies { get; init; }

    /// <summary>CPU time this process (the load generator) spent during the run, all threads.</summary>
    public TimeSpan ClientCpu { get; init; }

    /// <summary>The load generator's CPU time per completed request, in microseconds (0 with none).</summary>
    public double ClientCpuMicrosPerOp => Succeeded + ErrorCount > 0 ? ClientCpu.TotalMicroseconds / (Succeeded + ErrorCount) : 0;

    /// <summary>Successful requests per second.</summary>
    public double Throughput => Elapsed > TimeSpan.Zero ? Succeeded / Elapsed.TotalSeconds : 0;

    /// <summary>Failed requests in all.</summary>
    public long ErrorCount => Errors.Values.Sum();

    /// <summary>The percentiles reported, in order.</summary>
    public static IReadOnlyList<(string Name, double Percentile)> Percentiles { get; } =
        [("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9)];

    /// <summary>Renders the summary as text, one fact a line.</summary>
    public string ToText()
    {
        var text = new StringBuilder();
        text.Append(Invariant($"Summary ({Kind.CommandName()}):\n"));
        text.Append(Invariant($"  Total:      {Succeeded + ErrorCount} requests, {ErrorCount} errors\n"));
        text.Append(Invariant($"  Duration:   {Elapsed.TotalSeconds:0.000} s\n"));
        text.Append(Invariant($"  Throughput: {Throughput:0.0} ops/s\n"));
        text.Append(Invariant($"  Client CPU: {ClientCpuMicrosPerOp:0.0} µs/op (this load generator's own)\n"));
        text.Append("  Latency:   ");
        foreach ((var name, var percentile) in Percentiles)
            text.Append(Invariant($" {name} {Milliseconds(percentile):0.000} ms"));
        text.Append(Invariant($" (min {Latencies.Min / 1000.0:0.000}, mean {Latencies.Mean / 1000.0:0.000}, max {Latencies.Max / 1000.0:0.000})\n"));
        foreach ((var code, var count) in Errors.OrderBy(e => e.Key))
            text.Append(Invariant($"  Error {code}: {count}\n"));
        return text.ToString();
    }

    /// <summary>Renders the summary as one JSON object (latencies in milliseconds).</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("kind", Kind.CommandName());
            json.WriteNumber("total", Succeeded + ErrorCount);
            json.WriteNumber("succeeded", Succeeded);
            json.WriteNumber("errors", ErrorCount);
            json.WriteNumber("duration_s", Math.Round(Elapsed.TotalSeconds, 6));
            json.WriteNumber("throughput_ops_s", Math.Round(Throughput, 3));
            json.WriteNumber("client_cpu_us_per_op", Math.Round(ClientCpuMicrosPerOp, 1));
            json.WriteStartObject("latency_ms");
            foreach ((var name, var percentile) in Percentiles)
                json.WriteNumber(name, Milliseconds(percentile));
            json.WriteNumber("min", Latencies.Min / 1000.0);
            json.WriteNumber("mean", Math.Round(Latencies.Mean / 1000.0, 3));
            json.WriteNumber("max", Latencies.Max / 1000.0);
            json.WriteEndObject();
            json.WriteStartObject("errors_by_status");
            foreach ((var code, var count) in Errors.OrderBy(e => e.Key))
                json.WriteNumber(code.ToString(), count);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private double Milliseconds(double percentile) => Latencies.ValueAtPercentile(percentile) / 1000.0;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
