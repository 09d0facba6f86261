using System.CommandLine;
using Grpc.Core;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Client;

/// <summary>
/// <c>kvorum defrag</c>: Maintenance.Defragment on each endpoint in turn, with etcdctl's lines, so scripts that defragment
/// after a compaction run unchanged. Kvorum has no database file to defragment, so each member answers at once (see
/// <c>Api/MaintenanceService.cs</c>); a member that cannot be reached or refuses fails the command (exit 1).
/// </summary>
internal static class DefragCommand
{
    /// <summary>Creates the command.</summary>
    /// <param name="context">Streams and environment.</param>
    /// <param name="global">The shared client flags.</param>
    /// <returns>The <c>defrag</c> command.</returns>
    public static Command Create(CliContext context, GlobalOptions global)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(global);
        var cluster = new Option<bool>("--cluster") { Description = "Defragment every member, by the client URLs in the member list, instead of --endpoints." };
        var command = new Command("defrag", "Defragment each endpoint's storage, as etcdctl's defrag (nothing to do on Kvorum, which keeps no database file).") { cluster };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            if (ClusterEndpoints.Requested(parse, cluster))
                settings = await ClusterEndpoints.ExpandAsync(settings, cancellation).ConfigureAwait(false);
            using var connection = new EtcdConnection(settings);
            var failed = false;
            foreach (var endpoint in connection.Endpoints)
            {
                var display = EndpointParser.Display(endpoint);
                string? reason = null;
                try
                {
                    await connection.CallAsync(endpoint,
                        (channel, options) => new Maintenance.MaintenanceClient(channel).DefragmentAsync(new DefragmentRequest(), options).ResponseAsync,
                        cancellation).ConfigureAwait(false);
                }
                catch (RpcException e) when (EtcdConnection.IsUnreachable(e))
                {
                    reason = EtcdConnection.Reason(e);
                }
                catch (CommandFailedException e)
                {
                    reason = e.Message.StartsWith("Error: ", StringComparison.Ordinal) ? e.Message["Error: ".Length..] : e.Message;
                }
                if (reason is null)
                {
                    await context.Out.WriteLineAsync($"Finished defragmenting etcd member[{display}]").ConfigureAwait(false);
                }
                else
                {
                    failed = true;
                    await context.Error.WriteLineAsync($"Failed to defragment etcd member[{display}] ({reason})").ConfigureAwait(false);
                }
            }
            return failed ? ExitCodes.Failure : ExitCodes.Ok;
        });
        return command;
    }
}
