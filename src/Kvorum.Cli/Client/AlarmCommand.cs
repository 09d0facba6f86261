using System.CommandLine;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Cli.Output;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Client;

/// <summary>
/// <c>kvorum alarm list</c> and <c>kvorum alarm disarm</c>, as etcdctl's. Every endpoint is asked, since a Kvorum
/// member's NOSPACE alarm is its own (etcd's alarms are replicated, and the same alarm listed twice is shown once).
/// An unreachable endpoint is reported on stderr and makes the exit code 1; the others are still handled.
/// </summary>
internal static class AlarmCommand
{
    /// <summary>Creates the command.</summary>
    /// <param name="context">Streams and environment.</param>
    /// <param name="global">The shared client flags.</param>
    /// <returns>The <c>alarm</c> command.</returns>
    public static Command Create(CliContext context, GlobalOptions global)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(global);
        var command = new Command("alarm", "List or disarm alarms (NOSPACE: the store reached --quota-backend-bytes).");
        var list = new Command("list", "List the alarms raised on the endpoints.");
        list.SetAction((parse, cancellation) => RunAsync(context, global, parse, ListAsync, cancellation));
        var disarm = new Command("disarm", "Disarm every alarm raised on the endpoints, and list what was disarmed.");
        disarm.SetAction((parse, cancellation) => RunAsync(context, global, parse, DisarmAsync, cancellation));
        command.Subcommands.Add(list);
        command.Subcommands.Add(disarm);
        return command;
    }

    private static async Task<int> RunAsync(
        CliContext context, GlobalOptions global, ParseResult parse,
        Func<GrpcChannel, CallOptions, Task<AlarmResponse>> call, CancellationToken cancellation)
    {
        var settings = global.Resolve(parse, context);
        using var connection = new EtcdConnection(settings);
        var (answers, failures) = await connection.CallEachAsync(call, cancellation).ConfigureAwait(false);
        foreach (var failure in failures)
            await context.Error.WriteLineAsync(failure).ConfigureAwait(false);
        var merged = new AlarmResponse { Header = answers.Count > 0 ? answers[0].Response.Header : null };
        merged.Alarms.AddRange(answers.SelectMany(a => a.Response.Alarms).DistinctBy(a => (a.MemberID, a.Alarm)));
        new OutputWriter(context.Out, settings.Output).Alarms(merged);
        return failures.Count == 0 ? ExitCodes.Ok : ExitCodes.Failure;
    }

    private static Task<AlarmResponse> ListAsync(GrpcChannel channel, CallOptions options) =>
        new Maintenance.MaintenanceClient(channel).AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Get }, options).ResponseAsync;

    /// <summary>As etcd's client does: lists the endpoint's alarms, then deactivates each one by member and type.</summary>
    private static async Task<AlarmResponse> DisarmAsync(GrpcChannel channel, CallOptions options)
    {
        var client = new Maintenance.MaintenanceClient(channel);
        var listed = await client.AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Get }, options).ResponseAsync.ConfigureAwait(false);
        var disarmed = new AlarmResponse { Header = listed.Header };
        foreach (var alarm in listed.Alarms)
        {
            var response = await client.AlarmAsync(
                new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Deactivate, MemberID = alarm.MemberID, Alarm = alarm.Alarm },
                options).ResponseAsync.ConfigureAwait(false);
            disarmed.Alarms.AddRange(response.Alarms);
        }
        return disarmed;
    }
}
