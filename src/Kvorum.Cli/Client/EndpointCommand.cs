using System.CommandLine;
using System.Diagnostics;
using Google.Protobuf;
using Kvorum.Cli.Output;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Client;

/// <summary>
/// <c>kvorum endpoint status|hashkv|health</c>: etcdctl's endpoint commands under etcdctl's names and default
/// (simple) output, so that scripts written for etcdctl run unchanged. <c>status</c> and <c>hashkv</c> are also
/// top-level commands, printing tables by default.
/// </summary>
internal static class EndpointCommand
{
    /// <summary>Creates the command.</summary>
    /// <param name="context">Streams and environment.</param>
    /// <param name="global">The shared client flags.</param>
    /// <returns>The <c>endpoint</c> command.</returns>
    public static Command Create(CliContext context, GlobalOptions global)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(global);
        var command = new Command("endpoint", "etcdctl's endpoint commands: status, hashkv, health.") { global.Cluster };
        command.Subcommands.Add(StatusCommand.Create(context, global, "status", OutputFormat.Simple));
        command.Subcommands.Add(HashKVCommand.Create(context, global, OutputFormat.Simple));
        command.Subcommands.Add(Health(context, global));
        return command;
    }

    /// <summary>
    /// etcdctl's <c>endpoint health</c>: a linearizable read of the key "health" on each endpoint (it goes through the
    /// leader and a quorum), then the endpoint's alarms. In simple format the lines go to stderr, as etcdctl's do; any
    /// unhealthy endpoint makes it end with <c>Error: unhealthy cluster</c> and exit 1.
    /// </summary>
    private static Command Health(CliContext context, GlobalOptions global)
    {
        var command = new Command("health", "Check that every endpoint can take part in a linearizable read, and has no alarm raised.");
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            if (ClusterEndpoints.Requested(parse, global.Cluster))
                settings = await ClusterEndpoints.ExpandAsync(settings, cancellation).ConfigureAwait(false);
            using var connection = new EtcdConnection(settings);
            var results = await Task.WhenAll(connection.Endpoints.Select(e => CheckAsync(connection, e, cancellation))).ConfigureAwait(false);
            var output = new OutputWriter(context.Out, settings.Output);
            if (settings.Output == OutputFormat.Simple)
            {
                foreach (var r in results)
                {
                    await context.Error.WriteLineAsync(r.Healthy
                        ? $"{r.Endpoint} is healthy: successfully committed proposal: took = {GoDuration(r.Took)}"
                        : $"{r.Endpoint} is unhealthy: failed to commit proposal: {r.Error}").ConfigureAwait(false);
                }
            }
            else
            {
                output.Health([.. results.Select(r => (r.Endpoint, r.Healthy, GoDuration(r.Took), r.Error))]);
            }
            if (results.All(r => r.Healthy))
                return ExitCodes.Ok;
            await context.Error.WriteLineAsync("Error: unhealthy cluster").ConfigureAwait(false);
            return ExitCodes.Failure;
        });
        return command;
    }

    private static async Task<(string Endpoint, bool Healthy, TimeSpan Took, string Error)> CheckAsync(EtcdConnection connection, Uri endpoint, CancellationToken cancellation)
    {
        var display = EndpointParser.Display(endpoint);
        var started = Stopwatch.GetTimestamp();
        try
        {
            // The alarms first: that call also opens the connection, which etcdctl has opened before it starts its clock.
            var alarms = await connection.CallAsync(endpoint, (channel, options) =>
                new Maintenance.MaintenanceClient(channel).AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Get }, options).ResponseAsync, cancellation).ConfigureAwait(false);
            // Two reads, the second timed: the first also pays for compiling this process's read path, which says
            // nothing about the cluster.
            var took = TimeSpan.Zero;
            for (var i = 0; i < 2; i++)
            {
                started = Stopwatch.GetTimestamp();
                await connection.CallAsync(endpoint, (channel, options) =>
                    new KV.KVClient(channel).RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("health") }, options).ResponseAsync, cancellation).ConfigureAwait(false);
                took = Stopwatch.GetElapsedTime(started);
            }
            if (alarms.Alarms.Count > 0)
                return (display, false, took, "Active Alarm(s): " + string.Concat(alarms.Alarms.Select(a => a.Alarm.ToString().ToUpperInvariant() + " ")));
            return (display, true, took, "");
        }
        catch (Grpc.Core.RpcException e) when (EtcdConnection.IsUnreachable(e))
        {
            return (display, false, Stopwatch.GetElapsedTime(started), EtcdConnection.Reason(e));
        }
        catch (CommandFailedException e)
        {
            return (display, false, Stopwatch.GetElapsedTime(started), e.Message.StartsWith("Error: ", StringComparison.Ordinal) ? e.Message[7..] : e.Message);
        }
    }

    /// <summary>A duration as Go prints one (etcdctl's <c>took = 4.020069ms</c>): the largest unit under it, no trailing zeros.</summary>
    internal static string GoDuration(TimeSpan duration)
    {
        var nanoseconds = duration.Ticks * 100;
        static string Number(double value) => value.ToString("0.#########", System.Globalization.CultureInfo.InvariantCulture);
        return nanoseconds switch
        {
            0 => "0s",
            < 1_000 => $"{nanoseconds}ns",
            < 1_000_000 => Number(nanoseconds / 1e3) + "µs",
            < 1_000_000_000 => Number(nanoseconds / 1e6) + "ms",
            _ => Number(nanoseconds / 1e9) + "s",
        };
    }
}
