using System.CommandLine;
using Grpc.Core;
using Kvorum.Cli.Output;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;

namespace Kvorum.Cli.Client;

/// <summary>
/// <c>kvorum lease grant TTL | revoke ID | timetolive ID [--keys] | list | keep-alive ID [--once]</c>, with etcdctl's
/// arguments (ids in hexadecimal), output (<see cref="LeaseOutput"/>), errors and exit codes.
/// </summary>
internal static class LeaseCommand
{
    /// <summary>Creates the command and its subcommands.</summary>
    /// <param name="context">Streams and environment.</param>
    /// <param name="global">The shared client flags.</param>
    /// <returns>The <c>lease</c> command.</returns>
    public static Command Create(CliContext context, GlobalOptions global)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(global);
        var command = new Command("lease", "Grant, revoke, inspect, list and keep alive leases.");
        command.Subcommands.Add(Grant(context, global));
        command.Subcommands.Add(Revoke(context, global));
        command.Subcommands.Add(TimeToLive(context, global));
        command.Subcommands.Add(List(context, global));
        command.Subcommands.Add(KeepAlive(context, global));
        return command;
    }

    private static Command Grant(CliContext context, GlobalOptions global)
    {
        var ttl = new Argument<string>("ttl") { Description = "Time to live in seconds." };
        var command = new Command("grant", "Create a lease with a time to live in seconds.") { ttl };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            if (!long.TryParse(parse.GetValue(ttl), System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var seconds))
                throw new UsageException($"bad TTL {parse.GetValue(ttl)}: expected a number of seconds");
            using var connection = new EtcdConnection(settings);
            var response = await Explained("grant lease", connection.CallAsync(
                (channel, options) => new Lease.LeaseClient(channel).LeaseGrantAsync(new LeaseGrantRequest { TTL = seconds }, options).ResponseAsync,
                cancellation)).ConfigureAwait(false);
            new LeaseOutput(context.Out, settings.Output).Granted(response);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Revoke(CliContext context, GlobalOptions global)
    {
        var id = LeaseIdArgument();
        var command = new Command("revoke", "Revoke a lease; the keys attached to it are deleted.") { id };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            var lease = LeaseIds.Parse(parse.GetValue(id));
            using var connection = new EtcdConnection(settings);
            var response = await Explained("revoke lease", connection.CallAsync(
                (channel, options) => new Lease.LeaseClient(channel).LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease }, options).ResponseAsync,
                cancellation)).ConfigureAwait(false);
            new LeaseOutput(context.Out, settings.Output).Revoked(lease, response);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command TimeToLive(CliContext context, GlobalOptions global)
    {
        var id = LeaseIdArgument();
        var keys = new Option<bool>("--keys") { Description = "Also list the keys attached to the lease." };
        var command = new Command("timetolive", "Show a lease's granted and remaining time to live.") { id, keys };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            var request = new LeaseTimeToLiveRequest { ID = LeaseIds.Parse(parse.GetValue(id)), Keys = parse.GetValue(keys) };
            using var connection = new EtcdConnection(settings);
            var response = await connection.CallAsync(
                (channel, options) => new Lease.LeaseClient(channel).LeaseTimeToLiveAsync(request, options).ResponseAsync, cancellation).ConfigureAwait(false);
            new LeaseOutput(context.Out, settings.Output).TimeToLive(response, request.Keys);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List(CliContext context, GlobalOptions global)
    {
        var command = new Command("list", "List the leases.");
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            using var connection = new EtcdConnection(settings);
            var response = await connection.CallAsync(
                (channel, options) => new Lease.LeaseClient(channel).LeaseLeasesAsync(new LeaseLeasesRequest(), options).ResponseAsync, cancellation).ConfigureAwait(false);
            new LeaseOutput(context.Out, settings.Output).Leases(response);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command KeepAlive(CliContext context, GlobalOptions global)
    {
        var id = LeaseIdArgument();
        var once = new Option<bool>("--once") { Description = "Renew once and exit." };
        var command = new Command("keep-alive", "Keep a lease alive until interrupted (or renew it once).") { id, once };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            var lease = LeaseIds.Parse(parse.GetValue(id));
            var output = new LeaseOutput(context.Out, settings.Output);
            using var connection = new EtcdConnection(settings);
            var channel = connection.Channel(connection.Endpoints[0]);
            if (parse.GetValue(once))
            {
                // etcdctl exits with its "bad connection" code for any failure of --once, an unknown lease included.
                string failure;
                try
                {
                    var answer = await LeaseKeepAlive.RenewOnceAsync(channel, lease, DateTime.UtcNow + settings.CommandTimeout, cancellation).ConfigureAwait(false);
                    if (answer.TTL > 0)
                    {
                        output.KeptAlive(answer);
                        return ExitCodes.Ok;
                    }
                    failure = "Error: " + EtcdErrors.LeaseNotFound.Message;
                }
                catch (RpcException e) when (!cancellation.IsCancellationRequested)
                {
                    failure = EtcdConnection.IsUnreachable(e) ? EtcdConnection.UnreachableLine(connection.Endpoints[0], e) : EtcdConnection.ErrorLine(e);
                }
                await context.Error.WriteLineAsync(failure).ConfigureAwait(false);
                return EtcdctlExitCodes.BadConnection;
            }

            try
            {
                await foreach (var answer in LeaseKeepAlive.RenewAsync(connection, lease, settings.CommandTimeout, cancellation).ConfigureAwait(false))
                {
                    if (answer.TTL > 0)
                        output.KeptAlive(answer);
                }
            }
            catch (RpcException e) when (!cancellation.IsCancellationRequested)
            {
                throw new CommandFailedException(!EtcdConnection.IsUnreachable(e) ? EtcdConnection.ErrorLine(e)
                    : connection.Endpoints.Count == 1 ? EtcdConnection.UnreachableLine(connection.Endpoints[0], e)
                    : $"Error: no endpoint of {string.Join(',', connection.Endpoints.Select(EndpointParser.Display))} kept the lease alive ({EtcdConnection.Reason(e)})", e);
            }
            await context.Out.WriteLineAsync($"lease {LeaseIds.Format(lease)} expired or revoked.").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Argument<string> LeaseIdArgument() => new("id") { Description = "The lease ID, in hexadecimal." };

    /// <summary>etcdctl's <c>Error: failed to grant lease (etcdserver: …)</c> for a server's refusal.</summary>
    private static async Task<T> Explained<T>(string what, Task<T> call)
    {
        try
        {
            return await call.ConfigureAwait(false);
        }
        catch (CommandFailedException e) when (e.InnerException is RpcException rpc && rpc.Status.Detail.Length > 0 && rpc.StatusCode != StatusCode.DeadlineExceeded)
        {
            throw new CommandFailedException($"Error: failed to {what} ({rpc.Status.Detail})", e);
        }
    }
}
