using System.CommandLine;
using Kvorum.Cli.Client;
using Kvorum.Cli.Output;

namespace Kvorum.Cli.Bench;

/// <summary>
/// <c>kvorum bench put|range|lease-grant|lease-keepalive|watch</c>: a closed-loop load generator over etcd's KV and
/// Lease APIs (and <see cref="WatchBenchCommand"/> for watches). Prints progress once a second
/// on stderr and a summary (throughput, p50/p90/p99/p99.9, errors by status) on stdout.
/// </summary>
internal static class BenchCommand
{
    /// <summary>Creates the command with its subcommands.</summary>
    /// <param name="context">Streams and environment.</param>
    /// <param name="global">The shared client flags (endpoints, timeouts, output).</param>
    /// <returns>The <c>bench</c> command.</returns>
    public static Command Create(CliContext context, GlobalOptions global)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(global);
        var command = new Command("bench", "Load generator speaking the etcd API (works against etcd too).");
        command.Subcommands.Add(Kind(context, global, BenchKind.Put, "Benchmark puts of random keys."));
        command.Subcommands.Add(Kind(context, global, BenchKind.Range, "Benchmark single-key range reads of random keys."));
        command.Subcommands.Add(Kind(context, global, BenchKind.LeaseGrant, "Benchmark lease grants (each request grants a new lease)."));
        command.Subcommands.Add(Kind(context, global, BenchKind.LeaseKeepAlive, "Benchmark lease renewals (each client renews its own lease over one keep-alive stream)."));
        command.Subcommands.Add(WatchBenchCommand.Create(context, global));
        return command;
    }

    private static Command Kind(CliContext context, GlobalOptions global, BenchKind kind, string description)
    {
        var clients = new Option<int>("--clients") { Description = "Concurrent clients (default 1).", DefaultValueFactory = _ => 1 };
        var conns = new Option<int>("--conns") { Description = "gRPC connections the clients share (default 1).", DefaultValueFactory = _ => 1 };
        var total = new Option<long?>("--total") { Description = "Requests to send (default 10000 unless --duration is given)." };
        var duration = new Option<string>("--duration") { Description = "Run for this long instead, e.g. 10s." };
        var warmup = new Option<string>("--warmup") { Description = "Send the same load for this long first, unmeasured, e.g. 3s." };
        var keySpace = new Option<long>("--key-space") { Description = "Number of distinct keys (default 100000).", DefaultValueFactory = _ => 100_000 };
        var keySize = new Option<int>("--key-size") { Description = "Key size in bytes (default 8).", DefaultValueFactory = _ => 8 };
        var valueSize = new Option<int>("--value-size") { Description = "Value size in bytes (default 256).", DefaultValueFactory = _ => 256 };
        var ttl = new Option<long>("--ttl") { Description = "TTL of the granted leases in seconds (default 600).", DefaultValueFactory = _ => 600 };
        var command = new Command(kind.CommandName(), description) { clients, conns, total, duration, warmup };
        var isKv = kind is BenchKind.Put or BenchKind.Range;
        if (isKv)
        {
            command.Options.Add(keySpace);
            command.Options.Add(keySize);
            command.Options.Add(valueSize);
        }
        else
        {
            command.Options.Add(ttl);
        }

        var consistency = new Option<string>("--consistency") { Description = "l (linearizable, default) or s (serializable)." };
        var linearizable = new Option<bool>("--linearizable") { Description = "Same as --consistency l." };
        var serializable = new Option<bool>("--serializable") { Description = "Same as --consistency s." };
        if (kind == BenchKind.Range)
        {
            consistency.AcceptOnlyFromAmong("l", "s");
            command.Options.Add(consistency);
            command.Options.Add(linearizable);
            command.Options.Add(serializable);
        }

        command.SetAction(async (parse, cancellation) =>
        {
            var client = global.Resolve(parse, context);
            var durationText = parse.GetValue(duration);
            var warmupText = parse.GetValue(warmup);
            var settings = new BenchSettings
            {
                Kind = kind,
                Endpoints = client.Endpoints,
                Clients = parse.GetValue(clients),
                Conns = parse.GetValue(conns),
                Total = parse.GetValue(total),
                Duration = durationText is null ? null : DurationParser.ParseFlag("--duration", durationText),
                Warmup = warmupText is null ? null : DurationParser.ParseFlag("--warmup", warmupText),
                Serializable = kind == BenchKind.Range && Serializable(parse.GetValue(consistency), parse.GetValue(linearizable), parse.GetValue(serializable)),
                DialTimeout = client.DialTimeout,
                RequestTimeout = client.CommandTimeout,
                Tls = client.Tls,
                Credentials = client.Credentials,
            };
            if (isKv)
                settings = settings with { KeySpace = parse.GetValue(keySpace), KeySize = parse.GetValue(keySize), ValueSize = parse.GetValue(valueSize) };
            else
                settings = settings with { LeaseTtlSeconds = parse.GetValue(ttl) };
            settings.Validate();

            // Fail in one line before starting if the cluster cannot be reached at all.
            using (var probe = new EtcdConnection(client))
            {
                var (statuses, failures) = await StatusCommand.QueryAsync(probe, cancellation).ConfigureAwait(false);
                if (statuses.Count == 0)
                    throw new CommandFailedException(failures[0]);
            }

            if (settings.Warmup is { } warm)
            {
                await context.Error.WriteLineAsync(FormattableString.Invariant($"bench: warming up for {warm.TotalSeconds:0.#}s (not measured)")).ConfigureAwait(false);
                await new BenchRunner(settings with { Total = null, Duration = warm }, context.Error).RunAsync(cancellation).ConfigureAwait(false);
                await context.Error.WriteLineAsync("bench: warm-up done, measuring").ConfigureAwait(false);
            }

            var summary = await new BenchRunner(settings, context.Error).RunAsync(cancellation).ConfigureAwait(false);
            await context.Out.WriteLineAsync(client.Output == OutputFormat.Json ? summary.ToJson() : summary.ToText().TrimEnd('\n')).ConfigureAwait(false);
            return summary.Succeeded == 0 && summary.ErrorCount > 0 ? ExitCodes.Failure : ExitCodes.Ok;
        });
        return command;
    }

    private static bool Serializable(string? consistency, bool linearizable, bool serializable)
    {
        if (linearizable && serializable)
            throw new UsageException("--linearizable and --serializable cannot be used together");
        if (consistency is not null && (linearizable || serializable))
            throw new UsageException("--consistency cannot be combined with --linearizable or --serializable");
        return serializable || consistency == "s";
    }
}
