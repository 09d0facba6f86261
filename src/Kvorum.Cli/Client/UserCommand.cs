using System.CommandLine;
using Kvorum.Cli.Output;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Client;

/// <summary>
/// <c>kvorum user add|delete|get|list|passwd|grant-role|revoke-role</c>: etcdctl's <c>user</c> commands, with its
/// output. A password not given is asked for (twice for a new user) or, with <c>--interactive=false</c>, read from the
/// input.
/// </summary>
internal static class UserCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create(CliContext context, GlobalOptions global)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(global);
        var command = new Command("user", "User related commands.");
        command.Subcommands.Add(Add(context, global));
        command.Subcommands.Add(Simple(context, global, "delete", "Delete a user.", name => new AuthUserDeleteRequest { Name = name },
            (auth, r, o) => auth.UserDeleteAsync(r, o), name => $"User {name} deleted"));
        command.Subcommands.Add(Get(context, global));
        command.Subcommands.Add(List(context, global));
        command.Subcommands.Add(Passwd(context, global));
        command.Subcommands.Add(RoleChange(context, global, "grant-role", "Grant a role to a user.",
            (user, role) => new AuthUserGrantRoleRequest { User = user, Role = role }, (auth, r, o) => auth.UserGrantRoleAsync(r, o), (user, role) => $"Role {role} is granted to user {user}"));
        command.Subcommands.Add(RoleChange(context, global, "revoke-role", "Revoke a role from a user.",
            (user, role) => new AuthUserRevokeRoleRequest { Name = user, Role = role }, (auth, r, o) => auth.UserRevokeRoleAsync(r, o), (user, role) => $"Role {role} is revoked from user {user}"));
        return command;
    }

    private static Option<bool> Interactive() => new("--interactive") { Description = "Ask for the password on the terminal (default true); false reads it from the input.", DefaultValueFactory = _ => true };

    private static Command Add(CliContext context, GlobalOptions global)
    {
        var user = new Argument<string>("user") { Description = "The user's name, or name:password." };
        var interactive = Interactive();
        var newPassword = new Option<string>("--new-user-password") { Description = "The new user's password." };
        var noPassword = new Option<bool>("--no-password") { Description = "The user logs in with a certificate only." };
        var command = new Command("add", "Add a new user.") { user, interactive, newPassword, noPassword };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            var text = parse.GetValue(user)!;
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            var name = colon >= 0 ? text[..colon] : text;
            var request = new AuthUserAddRequest { Name = name };
            if (parse.GetValue(noPassword))
                request.Options = new UserAddOptions { NoPassword = true };
            else if (colon >= 0)
                request.Password = text[(colon + 1)..];
            else if (parse.GetValue(newPassword) is { } given)
                request.Password = given;
            else
                request.Password = NewPassword(name, parse.GetValue(interactive), context);
            using var connection = new EtcdConnection(settings);
            var response = await AuthCalls.CallAsync(connection, (auth, options) => auth.UserAddAsync(request, options), cancellation).ConfigureAwait(false);
            new OutputWriter(context.Out, settings.Output).Line($"User {name} created", response);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>A new password: asked twice on the terminal (they must match), or read once from the input.</summary>
    private static string NewPassword(string user, bool interactive, CliContext context)
    {
        if (!interactive)
            return context.In.ReadLine() ?? throw new UsageException("no password given: the input ended before one was read");
        var first = UserFlag.Ask($"Password of {user}: ", context);
        var second = UserFlag.Ask($"Type password of {user} again for confirmation: ", context);
        return first == second ? first : throw new CommandFailedException("Error: given passwords are different.");
    }

    private static Command Get(CliContext context, GlobalOptions global)
    {
        var user = new Argument<string>("user") { Description = "The user's name." };
        var detail = new Option<bool>("--detail") { Description = "Show the permissions of each of the user's roles." };
        var command = new Command("get", "Get detailed information of a user.") { user, detail };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            var name = parse.GetValue(user)!;
            using var connection = new EtcdConnection(settings);
            var response = await AuthCalls.CallAsync(connection, (auth, options) => auth.UserGetAsync(new AuthUserGetRequest { Name = name }, options), cancellation).ConfigureAwait(false);
            var output = new OutputWriter(context.Out, settings.Output);
            if (!parse.GetValue(detail))
            {
                output.Line($"User: {name}\nRoles:{string.Concat(response.Roles.Select(r => " " + r))}", response);
                return ExitCodes.Ok;
            }
            output.Line($"User: {name}", response);
            foreach (var role in response.Roles)
            {
                var perms = await AuthCalls.CallAsync(connection, (auth, options) => auth.RoleGetAsync(new AuthRoleGetRequest { Role = role }, options), cancellation).ConfigureAwait(false);
                output.Line("\n" + RoleText.Describe(role, perms), perms);
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List(CliContext context, GlobalOptions global)
    {
        var command = new Command("list", "List up all users.");
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            using var connection = new EtcdConnection(settings);
            var response = await AuthCalls.CallAsync(connection, (auth, options) => auth.UserListAsync(new AuthUserListRequest(), options), cancellation).ConfigureAwait(false);
            AuthCalls.PrintNames(new OutputWriter(context.Out, settings.Output), response.Users, response);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Passwd(CliContext context, GlobalOptions global)
    {
        var user = new Argument<string>("user") { Description = "The user's name." };
        var interactive = Interactive();
        var command = new Command("passwd", "Change the password of a user.") { user, interactive };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            var name = parse.GetValue(user)!;
            var password = NewPassword(name, parse.GetValue(interactive), context);
            using var connection = new EtcdConnection(settings);
            var response = await AuthCalls.CallAsync(connection,
                (auth, options) => auth.UserChangePasswordAsync(new AuthUserChangePasswordRequest { Name = name, Password = password }, options), cancellation).ConfigureAwait(false);
            new OutputWriter(context.Out, settings.Output).Line("Password updated", response);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Simple<TRequest, TResponse>(CliContext context, GlobalOptions global, string name, string description,
        Func<string, TRequest> request, Func<Kvorum.Etcd.Api.Auth.AuthClient, TRequest, Grpc.Core.CallOptions, Grpc.Core.AsyncUnaryCall<TResponse>> call,
        Func<string, string> line)
        where TResponse : Google.Protobuf.IMessage
    {
        var user = new Argument<string>("user") { Description = "The user's name." };
        var command = new Command(name, description) { user };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            var value = parse.GetValue(user)!;
            using var connection = new EtcdConnection(settings);
            var response = await AuthCalls.CallAsync(connection, (auth, options) => call(auth, request(value), options), cancellation).ConfigureAwait(false);
            new OutputWriter(context.Out, settings.Output).Line(line(value), response);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command RoleChange<TRequest, TResponse>(CliContext context, GlobalOptions global, string name, string description,
        Func<string, string, TRequest> request, Func<Kvorum.Etcd.Api.Auth.AuthClient, TRequest, Grpc.Core.CallOptions, Grpc.Core.AsyncUnaryCall<TResponse>> call,
        Func<string, string, string> line)
        where TResponse : Google.Protobuf.IMessage
    {
        var user = new Argument<string>("user") { Description = "The user's name." };
        var role = new Argument<string>("role") { Description = "The role's name." };
        var command = new Command(name, description) { user, role };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            var (u, r) = (parse.GetValue(user)!, parse.GetValue(role)!);
            using var connection = new EtcdConnection(settings);
            var response = await AuthCalls.CallAsync(connection, (auth, options) => call(auth, request(u, r), options), cancellation).ConfigureAwait(false);
            new OutputWriter(context.Out, settings.Output).Line(line(u, r), response);
            return ExitCodes.Ok;
        });
        return command;
    }
}
