using System.CommandLine;
using Kvorum.Cli.Output;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Client;

/// <summary>
/// <c>kvorum status</c>: Maintenance.Status on every endpoint, printed as a table by default. An unreachable
/// endpoint is reported on stderr and makes the exit code 1; the others are still printed.
/// </summary>
internal static class StatusCommand
{
    /// <summary>Creates the command.</summary>
    /// <param name="context">Streams and environment.</param>
    /// <param name="global">The shared client flags.</param>
    /// <returns>The <c>status</c> command.</returns>
    public static Command Create(CliContext context, GlobalOptions global) => Create(context, global, "status", OutputFormat.Table);

    /// <summary>Creates the command under <paramref name="name"/>, printing in <paramref name="defaultFormat"/> unless told otherwise.</summary>
    /// <param name="context">Streams and environment.</param>
    /// <param name="global">The shared client flags.</param>
    /// <param name="name">The command's name.</param>
    /// <param name="defaultFormat">The output format without <c>--write-out</c> (etcdctl's <c>endpoint status</c>: simple).</param>
    public static Command Create(CliContext context, GlobalOptions global, string name, OutputFormat defaultFormat)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(global);
        var command = new Command(name, "Show the status of every endpoint: member id, version, db size, leader, raft term and indexes.");
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context, defaultFormat);
            if (ClusterEndpoints.Requested(parse, global.Cluster))
                settings = await ClusterEndpoints.ExpandAsync(settings, cancellation).ConfigureAwait(false);
            using var connection = new EtcdConnection(settings);
            (var statuses, var failures) = await QueryAsync(connection, cancellation).ConfigureAwait(false);
            foreach (var failure in failures)
                await context.Error.WriteLineAsync(failure).ConfigureAwait(false);
            if (statuses.Count > 0)
                new OutputWriter(context.Out, settings.Output).Status(statuses);
            return failures.Count == 0 ? ExitCodes.Ok : ExitCodes.Failure;
        });
        return command;
    }

    /// <summary>Asks every endpoint for its status, in parallel.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="cancellation">Cancels the calls.</param>
    /// <returns>The answers, in endpoint order, and one error line per endpoint that failed.</returns>
    public static async Task<(List<EndpointStatus> Statuses, List<string> Failures)> QueryAsync(EtcdConnection connection, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var (answers, failures) = await connection.CallEachAsync(
            (channel, options) => new Maintenance.MaintenanceClient(channel).StatusAsync(new StatusRequest(), options).ResponseAsync,
            cancellation).ConfigureAwait(false);
        return ([.. answers.Select(a => new EndpointStatus(a.Endpoint, a.Response))], failures);
    }
}
