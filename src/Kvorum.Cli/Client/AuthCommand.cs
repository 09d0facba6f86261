using System.CommandLine;
using Grpc.Core;
using Kvorum.Cli.Output;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;

namespace Kvorum.Cli.Client;

/// <summary><c>kvorum auth enable|disable</c>: turns authentication on or off, as etcdctl's <c>auth</c>.</summary>
internal static class AuthCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create(CliContext context, GlobalOptions global)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(global);
        var command = new Command("auth", "Enable or disable authentication.");

        var enable = new Command("enable", "Enable authentication (the root user must exist; it is given the root role if it lacks it).");
        enable.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            using var connection = new EtcdConnection(settings);
            var response = await EnableAsync(connection, cancellation).ConfigureAwait(false);
            new OutputWriter(context.Out, settings.Output).Line("Authentication Enabled", response);
            return ExitCodes.Ok;
        });
        command.Subcommands.Add(enable);

        var disable = new Command("disable", "Disable authentication.");
        disable.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            using var connection = new EtcdConnection(settings);
            var response = await AuthCalls.CallAsync(connection, (auth, options) => auth.AuthDisableAsync(new AuthDisableRequest(), options), cancellation).ConfigureAwait(false);
            new OutputWriter(context.Out, settings.Output).Line("Authentication Disabled", response);
            return ExitCodes.Ok;
        });
        command.Subcommands.Add(disable);
        return command;
    }

    /// <summary>
    /// Enables authentication as etcdctl does: when the root user lacks the root role, the role is made (if missing)
    /// and granted, and enabling is tried again.
    /// </summary>
    private static async Task<AuthEnableResponse> EnableAsync(EtcdConnection connection, CancellationToken cancellation)
    {
        var rootRoleMissing = $"Error: {EtcdErrors.RootRoleNotExist.Message}";
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await AuthCalls.CallAsync(connection, (auth, options) => auth.AuthEnableAsync(new AuthEnableRequest(), options), cancellation).ConfigureAwait(false);
            }
            catch (CommandFailedException e) when (e.Message == rootRoleMissing && attempt == 0)
            {
                try
                {
                    await AuthCalls.CallAsync(connection, (auth, options) => auth.RoleAddAsync(new AuthRoleAddRequest { Name = "root" }, options), cancellation).ConfigureAwait(false);
                }
                catch (CommandFailedException added) when (added.InnerException is RpcException r && EtcdErrors.RoleAlreadyExist.Matches(r))
                {
                    // The role exists; only the grant is missing.
                }
                await AuthCalls.CallAsync(connection, (auth, options) => auth.UserGrantRoleAsync(new AuthUserGrantRoleRequest { User = "root", Role = "root" }, options), cancellation).ConfigureAwait(false);
            }
        }
    }
}
