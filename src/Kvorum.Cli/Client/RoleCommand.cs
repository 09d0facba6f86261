using System.CommandLine;
using Google.Protobuf;
using Kvorum.Cli.Output;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Client;

/// <summary>
/// <c>kvorum role add|delete|get|list|grant-permission|revoke-permission</c>: etcdctl's <c>role</c> commands, with its
/// output. A permission is on a key, a range <c>[key, end)</c>, a prefix (<c>--prefix</c>) or every key from one on
/// (<c>--from-key</c>).
/// </summary>
internal static class RoleCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create(CliContext context, GlobalOptions global)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(global);
        var command = new Command("role", "Role related commands.");
        command.Subcommands.Add(Named(context, global, "add", "Add a new role.",
            (auth, role, o) => auth.RoleAddAsync(new AuthRoleAddRequest { Name = role }, o), (role, _) => $"Role {role} created"));
        command.Subcommands.Add(Named(context, global, "delete", "Delete a role.",
            (auth, role, o) => auth.RoleDeleteAsync(new AuthRoleDeleteRequest { Role = role }, o), (role, _) => $"Role {role} deleted"));
        command.Subcommands.Add(Named(context, global, "get", "Get detailed information of a role.",
            (auth, role, o) => auth.RoleGetAsync(new AuthRoleGetRequest { Role = role }, o), RoleText.Describe));
        var list = new Command("list", "List up all roles.");
        list.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            using var connection = new EtcdConnection(settings);
            var response = await AuthCalls.CallAsync(connection, (auth, options) => auth.RoleListAsync(new AuthRoleListRequest(), options), cancellation).ConfigureAwait(false);
            AuthCalls.PrintNames(new OutputWriter(context.Out, settings.Output), response.Roles, response);
            return ExitCodes.Ok;
        });
        command.Subcommands.Add(list);
        command.Subcommands.Add(GrantPermission(context, global));
        command.Subcommands.Add(RevokePermission(context, global));
        return command;
    }

    private static Command Named<TResponse>(CliContext context, GlobalOptions global, string name, string description,
        Func<Kvorum.Etcd.Api.Auth.AuthClient, string, Grpc.Core.CallOptions, Grpc.Core.AsyncUnaryCall<TResponse>> call, Func<string, TResponse, string> line)
        where TResponse : IMessage
    {
        var role = new Argument<string>("role") { Description = "The role's name." };
        var command = new Command(name, description) { role };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            var value = parse.GetValue(role)!;
            using var connection = new EtcdConnection(settings);
            var response = await AuthCalls.CallAsync(connection, (auth, options) => call(auth, value, options), cancellation).ConfigureAwait(false);
            new OutputWriter(context.Out, settings.Output).Line(line(value, response), response);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static (Option<bool> Prefix, Option<bool> FromKey) RangeOptions() =>
        (new Option<bool>("--prefix") { Description = "The permission is on every key with the key as its prefix." },
         new Option<bool>("--from-key") { Description = "The permission is on every key from the key on." });

    /// <summary>The range end of a permission: the one given, the prefix's, from the key on, or none (one key).</summary>
    private static ByteString End(string key, string? end, bool prefix, bool fromKey)
    {
        if ((prefix || fromKey) && end is not null)
            throw new UsageException("--prefix and --from-key take no range end");
        if (prefix && fromKey)
            throw new UsageException("--from-key and --prefix cannot be set at the same time, choose one");
        if (fromKey)
            return KeyRanges.FromKey;
        if (prefix)
            return key.Length == 0 ? KeyRanges.FromKey : KeyRanges.PrefixEnd(ByteString.CopyFromUtf8(key));
        return end is null ? ByteString.Empty : ByteString.CopyFromUtf8(end);
    }

    private static Command GrantPermission(CliContext context, GlobalOptions global)
    {
        var role = new Argument<string>("role") { Description = "The role's name." };
        var type = new Argument<string>("permission-type") { Description = "read, write or readwrite." };
        var key = new Argument<string>("key") { Description = "The key, or the start of the range." };
        var end = new Argument<string?>("endkey") { Description = "The end of the range (not included).", Arity = ArgumentArity.ZeroOrOne };
        var (prefix, fromKey) = RangeOptions();
        var command = new Command("grant-permission", "Grant a key or range to a role.") { role, type, key, end, prefix, fromKey };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            var permType = parse.GetValue(type)!.ToUpperInvariant() switch
            {
                "READ" => Permission.Types.Type.Read,
                "WRITE" => Permission.Types.Type.Write,
                "READWRITE" => Permission.Types.Type.Readwrite,
                var other => throw new UsageException($"invalid permission type {other}"),
            };
            var k = parse.GetValue(key)!;
            var perm = new Permission { PermType = permType, Key = ByteString.CopyFromUtf8(k), RangeEnd = End(k, parse.GetValue(end), parse.GetValue(prefix), parse.GetValue(fromKey)) };
            var name = parse.GetValue(role)!;
            using var connection = new EtcdConnection(settings);
            var response = await AuthCalls.CallAsync(connection,
                (auth, options) => auth.RoleGrantPermissionAsync(new AuthRoleGrantPermissionRequest { Name = name, Perm = perm }, options), cancellation).ConfigureAwait(false);
            new OutputWriter(context.Out, settings.Output).Line($"Role {name} updated", response);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command RevokePermission(CliContext context, GlobalOptions global)
    {
        var role = new Argument<string>("role") { Description = "The role's name." };
        var key = new Argument<string>("key") { Description = "The key, or the start of the range." };
        var end = new Argument<string?>("endkey") { Description = "The end of the range (not included).", Arity = ArgumentArity.ZeroOrOne };
        var (prefix, fromKey) = RangeOptions();
        var command = new Command("revoke-permission", "Revoke a key or range from a role.") { role, key, end, prefix, fromKey };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            var k = parse.GetValue(key)!;
            var rangeEnd = End(k, parse.GetValue(end), parse.GetValue(prefix), parse.GetValue(fromKey));
            var name = parse.GetValue(role)!;
            var request = new AuthRoleRevokePermissionRequest { Role = name, Key = ByteString.CopyFromUtf8(k), RangeEnd = rangeEnd };
            using var connection = new EtcdConnection(settings);
            var response = await AuthCalls.CallAsync(connection, (auth, options) => auth.RoleRevokePermissionAsync(request, options), cancellation).ConfigureAwait(false);
            var line = rangeEnd.IsEmpty ? $"Permission of key {k} is revoked from role {name}"
                : $"Permission of range {RoleText.Range(request.Key, rangeEnd).Split(" (prefix", 2)[0]} is revoked from role {name}";
            new OutputWriter(context.Out, settings.Output).Line(line, response);
            return ExitCodes.Ok;
        });
        return command;
    }
}
