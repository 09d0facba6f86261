using System.CommandLine;
using Kvorum.Cli.Output;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Client;

/// <summary><c>kvorum move-leader ID</c>: finds the leader among the endpoints and asks it to hand leadership to ID.</summary>
internal static class MoveLeaderCommand
{
    /// <summary>Creates the command.</summary>
    /// <param name="context">Streams and environment.</param>
    /// <param name="global">The shared client flags.</param>
    /// <returns>The <c>move-leader</c> command.</returns>
    public static Command Create(CliContext context, GlobalOptions global)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(global);
        var target = new Argument<string>("id") { Description = "Hex id of the member to become leader." };
        var command = new Command("move-leader", "Transfer leadership to another member.") { target };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            var id = MemberIdParser.Parse(parse.GetValue(target));
            using var connection = new EtcdConnection(settings);
            (var statuses, var failures) = await StatusCommand.QueryAsync(connection, cancellation).ConfigureAwait(false);
            var leaderIndex = statuses.FindIndex(s => s.IsLeader);
            if (leaderIndex < 0)
                throw new CommandFailedException(failures.Count > 0 && statuses.Count == 0
                    ? failures[0]
                    : $"Error: no leader among the endpoints {string.Join(',', connection.Endpoints.Select(EndpointParser.Display))}");

            var leader = statuses[leaderIndex];
            var leaderEndpoint = connection.Endpoints.First(e => EndpointParser.Display(e) == leader.Endpoint);
            var request = new MoveLeaderRequest { TargetID = id };
            var response = await connection.CallAsync(
                leaderEndpoint,
                (channel, options) => new Maintenance.MaintenanceClient(channel).MoveLeaderAsync(request, options).ResponseAsync,
                cancellation).ConfigureAwait(false);
            new OutputWriter(context.Out, settings.Output).Line(
                $"Leadership transferred from {OutputWriter.Hex(leader.Status.Header.MemberId)} to {OutputWriter.Hex(id)}", response);
            return ExitCodes.Ok;
        });
        return command;
    }
}
