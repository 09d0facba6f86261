using System.CommandLine;
using Kvorum.Cli.Client;
using Kvorum.Cli.Output;

namespace Kvorum.Cli.Bench;

/// <summary>
/// <c>kvorum bench watch</c>: W watchers over S streams on K keys while puts go in at a fixed rate; reports the
/// events delivered (and any missing or repeated), events per second, and the latency from each put to each of its
/// events. Exits 1 when an event owed to a watcher never came.
/// </summary>
internal static class WatchBenchCommand
{
    /// <summary>Creates the command.</summary>
    /// <param name="context">Streams and environment.</param>
    /// <param name="global">The shared client flags (endpoints, timeouts, output).</param>
    /// <returns>The <c>watch</c> subcommand of <c>bench</c>.</returns>
    public static Command Create(CliContext context, GlobalOptions global)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(global);
        var watchers = new Option<int>("--watchers") { Description = "Watchers in all, each on one key (default 1000).", DefaultValueFactory = _ => 1000 };
        var streams = new Option<int>("--streams") { Description = "Watch streams the watchers share (default 10).", DefaultValueFactory = _ => 10 };
        var conns = new Option<int>("--conns") { Description = "gRPC connections the streams share (default 1).", DefaultValueFactory = _ => 1 };
        var keys = new Option<int>("--keys") { Description = "Distinct watched keys (default 10).", DefaultValueFactory = _ => 10 };
        var putRate = new Option<int>("--put-rate") { Description = "Puts per second on a fixed schedule; 0 holds the watchers idle (default 100).", DefaultValueFactory = _ => 100 };
        var duration = new Option<string>("--duration") { Description = "How long the puts go on (default 10s)." };
        var warmup = new Option<string>("--warmup") { Description = "Run the same watchers and puts for this long first, unmeasured, e.g. 10s." };
        var idle = new Option<string>("--idle") { Description = "Hold the watchers open and idle this long before the puts, e.g. 5s." };
        var valueSize = new Option<int>("--value-size") { Description = "Value size in bytes, at least 8 (default 256).", DefaultValueFactory = _ => 256 };
        var command = new Command("watch", "Benchmark watch event delivery while puts go in at a fixed rate.")
        {
            watchers, streams, conns, keys, putRate, duration, warmup, idle, valueSize,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            var client = global.Resolve(parse, context);
            var durationText = parse.GetValue(duration);
            var idleText = parse.GetValue(idle);
            var warmupText = parse.GetValue(warmup);
            var settings = new WatchBenchSettings
            {
                Endpoints = client.Endpoints,
                Watchers = parse.GetValue(watchers),
                Streams = parse.GetValue(streams),
                Conns = parse.GetValue(conns),
                Keys = parse.GetValue(keys),
                PutRate = parse.GetValue(putRate),
                Duration = durationText is null ? TimeSpan.FromSeconds(10) : DurationParser.ParseFlag("--duration", durationText),
                Warmup = warmupText is null ? null : DurationParser.ParseFlag("--warmup", warmupText),
                Idle = idleText is null ? TimeSpan.Zero : DurationParser.ParseFlag("--idle", idleText),
                ValueSize = parse.GetValue(valueSize),
                DialTimeout = client.DialTimeout,
                RequestTimeout = client.CommandTimeout,
                Tls = client.Tls,
                Credentials = client.Credentials,
            };
            settings.Validate();

            using (var probe = new EtcdConnection(client))
            {
                var (statuses, failures) = await StatusCommand.QueryAsync(probe, cancellation).ConfigureAwait(false);
                if (statuses.Count == 0)
                    throw new CommandFailedException(failures[0]);
            }

            WatchBenchSummary summary;
            try
            {
                if (settings.Warmup is { } warm)
                {
                    // Its own watchers and keys, closed before the measured run opens its own; its progress lines are
                    // not printed, so the first "watchers open" line is the measured run's.
                    await context.Error.WriteLineAsync(FormattableString.Invariant($"bench watch: warming up for {warm.TotalSeconds:0.#}s (not measured)")).ConfigureAwait(false);
                    await new WatchBenchRunner(settings with { Duration = warm, Idle = TimeSpan.Zero }, TextWriter.Null).RunAsync(cancellation).ConfigureAwait(false);
                    await context.Error.WriteLineAsync("bench watch: warm-up done, measuring").ConfigureAwait(false);
                }
                summary = await new WatchBenchRunner(settings, context.Error).RunAsync(cancellation).ConfigureAwait(false);
            }
            catch (Grpc.Core.RpcException e)
            {
                throw new CommandFailedException($"opening the watchers failed: {e.Status.Detail}");
            }
            catch (InvalidOperationException e)
            {
                throw new CommandFailedException($"opening the watchers failed: {e.Message}");
            }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
            {
                throw new CommandFailedException("opening the watchers timed out");
            }

            await context.Out.WriteLineAsync(client.Output == OutputFormat.Json ? summary.ToJson() : summary.ToText().TrimEnd('\n')).ConfigureAwait(false);
            return summary.Missing > 0 || summary.Unexpected > 0 ? ExitCodes.Failure : ExitCodes.Ok;
        });
        return command;
    }
}
