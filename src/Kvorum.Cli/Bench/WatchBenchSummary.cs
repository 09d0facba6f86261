using System.Globalization;
using System.Text;
using System.Text.Json;
using Grpc.Core;

namespace Kvorum.Cli.Bench;

/// <summary>The outcome of <c>kvorum bench watch</c>: puts sent, events expected and delivered, and their latency.</summary>
internal sealed record WatchBenchSummary
{
    /// <summary>The run's settings.</summary>
    public required WatchBenchSettings Settings { get; init; }

    /// <summary>Puts the cluster acknowledged.</summary>
    public required long Puts { get; init; }

    /// <summary>Failed puts by gRPC status.</summary>
    public required IReadOnlyDictionary<StatusCode, long> PutErrors { get; init; }

    /// <summary>Wall time of the put phase.</summary>
    public required TimeSpan PutPhase { get; init; }

    /// <summary>Events the acknowledged puts owe the watchers: each put, once per watcher of its key.</summary>
    public required long Expected { get; init; }

    /// <summary>Events that arrived, each once, up to the end of the drain.</summary>
    public required long Delivered { get; init; }

    /// <summary>Latency from each put's acknowledgement to the arrival of each of its events (0 when the event came first).</summary>
    public required LatencyHistogram FromAcknowledgement { get; init; }

    /// <summary>Latency from each put's sending to the arrival of each of its events.</summary>
    public required LatencyHistogram FromSend { get; init; }

    /// <summary>Events that arrived before their put's acknowledgement did.</summary>
    public required long BeforeAcknowledgement { get; init; }

    /// <summary>Events that arrived again: at or below a revision their watcher had already seen.</summary>
    public required long Unexpected { get; init; }

    /// <summary>Events owed and not delivered.</summary>
    public long Missing => Math.Max(0, Expected - Delivered);

    /// <summary>Delivered events per second of the put phase.</summary>
    public double EventsPerSecond => PutPhase > TimeSpan.Zero ? Delivered / PutPhase.TotalSeconds : 0;

    /// <summary>Acknowledged puts per second of the put phase.</summary>
    public double PutsPerSecond => PutPhase > TimeSpan.Zero ? Puts / PutPhase.TotalSeconds : 0;

    /// <summary>Renders the summary as text, one fact a line.</summary>
    public string ToText()
    {
        var s = Settings;
        var text = new StringBuilder();
        text.Append("Summary (watch):\n");
        text.Append(Invariant($"  Watchers:   {s.Watchers} on {s.Streams} streams, {s.Keys} keys\n"));
        text.Append(Invariant($"  Puts:       {Puts} acknowledged, {PutErrors.Values.Sum()} errors, {PutsPerSecond:0.0}/s (asked {s.PutRate}/s)\n"));
        text.Append(Invariant($"  Events:     {Expected} expected, {Delivered} delivered, {Missing} missing, {Unexpected} unexpected\n"));
        text.Append(Invariant($"  Throughput: {EventsPerSecond:0.0} events/s\n"));
        Latency(text, "  Latency from put ack: ", FromAcknowledgement);
        text.Append(Invariant($"    ({BeforeAcknowledgement} events arrived before their put's acknowledgement and count as 0)\n"));
        Latency(text, "  Latency from put sent:", FromSend);
        foreach ((var code, var count) in PutErrors.OrderBy(e => e.Key))
            text.Append(Invariant($"  Put error {code}: {count}\n"));
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
            json.WriteString("kind", "watch");
            json.WriteNumber("watchers", Settings.Watchers);
            json.WriteNumber("streams", Settings.Streams);
            json.WriteNumber("keys", Settings.Keys);
            json.WriteNumber("put_rate_asked", Settings.PutRate);
            json.WriteNumber("puts", Puts);
            json.WriteNumber("put_errors", PutErrors.Values.Sum());
            json.WriteNumber("puts_per_s", Math.Round(PutsPerSecond, 3));
            json.WriteNumber("events_expected", Expected);
            json.WriteNumber("events_delivered", Delivered);
            json.WriteNumber("events_missing", Missing);
            json.WriteNumber("events_unexpected", Unexpected);
            json.WriteNumber("events_per_s", Math.Round(EventsPerSecond, 3));
            json.WriteNumber("events_before_ack", BeforeAcknowledgement);
            WriteLatency(json, "latency_ms", FromAcknowledgement);
            WriteLatency(json, "latency_from_send_ms", FromSend);
            json.WriteStartObject("put_errors_by_status");
            foreach ((var code, var count) in PutErrors.OrderBy(e => e.Key))
                json.WriteNumber(code.ToString(), count);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Latency(StringBuilder text, string label, LatencyHistogram latencies)
    {
        text.Append(label);
        foreach ((var name, var percentile) in BenchSummary.Percentiles)
            text.Append(Invariant($" {name} {latencies.ValueAtPercentile(percentile) / 1000.0:0.000} ms"));
        text.Append(Invariant($" (max {latencies.Max / 1000.0:0.000})\n"));
    }

    private static void WriteLatency(Utf8JsonWriter json, string name, LatencyHistogram latencies)
    {
        json.WriteStartObject(name);
        foreach ((var percentile, var value) in BenchSummary.Percentiles)
            json.WriteNumber(percentile, latencies.ValueAtPercentile(value) / 1000.0);
        json.WriteNumber("max", latencies.Max / 1000.0);
        json.WriteEndObject();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
