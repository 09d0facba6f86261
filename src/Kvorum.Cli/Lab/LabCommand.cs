using System.CommandLine;
using Kvorum.Cli.Cluster;
using Kvorum.Etcd.Serve;
using Kvorum.Lab;

namespace Kvorum.Cli.Lab;

/// <summary>
/// <c>kvorum lab ...</c>: the network-namespace lab (up, status, down, faults, processes, exec) and its
/// scenarios and Jepsen-style check. Every subcommand needs root, iproute2 and nftables, and says so if not.
/// </summary>
internal static partial class LabCommand
{
    /// <summary>Creates the <c>lab</c> command tree.</summary>
    /// <param name="context">Streams, environment and shutdown signal.</param>
    public static Command Create(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var dir = new Option<string>("--dir")
        {
            Description = $"The lab directory: state file, data dirs and logs (default ${LabOptions.DirectoryVariable} or /tmp/kvorum-lab).",
            DefaultValueFactory = _ => LabOptions.DefaultDirectory(context.GetEnvironmentVariable),
            Recursive = true,
        };
        var lab = new Command("lab", "Each member in its own network namespace; faults on command; scenarios; a linearizability check. Needs root.") { dir };
        lab.Subcommands.Add(Up(context, dir));
        lab.Subcommands.Add(Status(context, dir));
        lab.Subcommands.Add(Down(context, dir));
        foreach (var fault in FaultCommands(context, dir))
            lab.Subcommands.Add(fault);
        foreach (var process in ProcessCommands(context, dir))
            lab.Subcommands.Add(process);
        lab.Subcommands.Add(Exec(context, dir));
        lab.Subcommands.Add(ViewSubcommand(context, dir));
        lab.Subcommands.Add(Scenario(context, dir));
        lab.Subcommands.Add(Check(context, dir));
        lab.Subcommands.Add(Verify(context));
        return lab;
    }

    /// <summary>How the lab starts <c>kvorum serve</c>: this same executable.</summary>
    /// <returns>Program and leading arguments.</returns>
    internal static IReadOnlyList<string> ServerCommand()
    {
        var self = NodeProcess.SelfInvocation();
        return [self.FileName, .. self.ArgumentList];
    }

    private static Command Up(CliContext context, Option<string> dir)
    {
        var nodes = new Option<int>("--nodes") { Description = "Number of members (default 5).", DefaultValueFactory = _ => 5 };
        var learners = new Option<int>("--learners") { Description = "Members added as learners once the others have a leader (default 0).", DefaultValueFactory = _ => 0 };
        var subnet = new Option<string>("--subnet") { Description = "IPv4 subnet for the members and the host's bridge address (default 10.77.0.0/24).", DefaultValueFactory = _ => Kvorum.Lab.Topology.LabLayout.DefaultSubnet };
        var prefix = new Option<string>("--prefix") { Description = "Prefix of the namespaces, links and bridge (default kvorum: kvorum-n1..N).", DefaultValueFactory = _ => Kvorum.Lab.Topology.LabLayout.DefaultPrefix };
        var election = new Option<int?>("--election-timeout") { Description = "Members' election timeout in ms (default the server's, 1000)." };
        var heartbeat = new Option<int?>("--heartbeat-interval") { Description = "Members' heartbeat interval in ms (default the server's, 100)." };
        var preVote = new Option<bool?>("--pre-vote") { Description = "Members run PreVote (default true)." };
        var pace = PaceOption.Create();
        var tls = TlsOption.Create();
        var command = new Command("up", "Create the namespaces and bridge, start a member in each, wait for a leader.") { nodes, learners, subnet, prefix, election, heartbeat, preVote, pace, tls };

        // The view beside the lab (issue 22): `kvorum lab view`, detached, as `cluster up` starts its own.
        var noView = new Option<bool>("--no-view") { Description = "Do not serve the page that shows the members at work." };
        var viewListen = new Option<string>("--view-listen") { Description = $"Address of that page (default {Kvorum.Cli.View.ViewCommand.DefaultListen}).", DefaultValueFactory = _ => Kvorum.Cli.View.ViewCommand.DefaultListen };
        command.Options.Add(noView);
        command.Options.Add(viewListen);

        command.SetAction(async (parse, cancellation) =>
        {
            if (parse.GetValue(learners) is < 0 or > 1)
                throw new UsageException($"--learners must be 0 or 1 (a cluster takes one learner, as etcd), got {parse.GetValue(learners)}");
            var options = new LabOptions
            {
                Nodes = parse.GetValue(nodes),
                Learners = parse.GetValue(learners),
                Subnet = parse.GetValue(subnet)!,
                Prefix = parse.GetValue(prefix)!,
                Directory = parse.GetValue(dir)!,
                ServerCommand = ServerCommand(),
                Serve = Serve(parse.GetValue(election), parse.GetValue(heartbeat), parse.GetValue(preVote)),
                Tls = parse.GetValue(tls),
            };
            options = PaceOption.Apply(options, parse.GetValue(pace));
            // Over --tls the view dials the members with the lab's CA and client certificate (`lab view`).
            var view = parse.GetValue(noView) ? null : Kvorum.Cli.View.ViewCommand.ParseListen(parse.GetValue(viewListen) ?? Kvorum.Cli.View.ViewCommand.DefaultListen).ToString();
            using var control = await Guard(() => LabControl.UpAsync(options, context.Out, cancellation)).ConfigureAwait(false);
            if (view is not null)
                await StartViewAsync(context.Out, control, view).ConfigureAwait(false);
            await context.Out.WriteLineAsync("lab up; `kvorum lab status` shows it, `kvorum lab down` removes it").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The <c>serve</c> settings for the given timeouts and PreVote setting.</summary>
    /// <param name="electionMs">Election timeout, or null for the default.</param>
    /// <param name="heartbeatMs">Heartbeat interval, or null for the default.</param>
    /// <param name="preVote">PreVote, or null for the default.</param>
    /// <returns>The settings every member shares.</returns>
    internal static ServeArguments Serve(int? electionMs, int? heartbeatMs, bool? preVote) =>
        new() { ElectionTimeoutMs = electionMs, HeartbeatIntervalMs = heartbeatMs, PreVote = preVote };

    private static Command Status(CliContext context, Option<string> dir)
    {
        var command = new Command("status", "A table of the members: process, role, term, leader, indexes and the faults on each.");
        command.SetAction(async (parse, cancellation) =>
        {
            using var control = Guard(() => LabControl.Open(parse.GetValue(dir)!));
            var rows = await control.StatusAsync(cancellation).ConfigureAwait(false);
            await context.Out.WriteAsync(LabStatusTable.Render(rows)).ConfigureAwait(false);
            if (control.PaceLine is { } paceLine)
                await context.Out.WriteLineAsync(paceLine).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Down(CliContext context, Option<string> dir)
    {
        var deleteData = new Option<bool>("--delete-data") { Description = "Also delete the members' data dirs (logs are kept)." };
        var command = new Command("down", "Remove every process, namespace, link, bridge and nft table of the lab. Safe to repeat.") { deleteData };
        command.SetAction((parse, _) =>
        {
            Guard(() => LabControl.Down(parse.GetValue(dir)!, context.Out, keepData: !parse.GetValue(deleteData)));
            return Task.FromResult(ExitCodes.Ok);
        });
        return command;
    }

    private static Command Exec(CliContext context, Option<string> dir)
    {
        var node = NodeArgument();
        var rest = new Argument<string[]>("command") { Description = "The command to run inside the node's namespace (after --).", Arity = ArgumentArity.OneOrMore };
        var command = new Command("exec", "Run a command inside node N's namespace, e.g. kvorum lab exec 1 -- etcdctl get foo.") { node, rest };
        command.SetAction((parse, _) =>
        {
            using var control = Guard(() => LabControl.Open(parse.GetValue(dir)!));
            return Task.FromResult(Guard(() => control.Exec(parse.GetValue(node), parse.GetValue(rest) ?? [])));
        });
        _ = context;
        return command;
    }

    /// <summary>The node number argument.</summary>
    internal static Argument<int> NodeArgument() => new("N") { Description = "The node number, 1..nodes." };

    /// <summary>Runs <paramref name="action"/>, turning a <see cref="LabException"/> into a failed command.</summary>
    /// <typeparam name="T">The result.</typeparam>
    /// <param name="action">The lab call.</param>
    /// <returns>Its result.</returns>
    internal static T Guard<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (LabException e)
        {
            throw new CommandFailedException($"kvorum lab: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CommandFailedException($"kvorum lab: {e.Message}", e);
        }
    }

    /// <summary>Awaits <paramref name="action"/>, turning a <see cref="LabException"/> into a failed command.</summary>
    /// <typeparam name="T">The result.</typeparam>
    /// <param name="action">The lab call.</param>
    /// <returns>Its result.</returns>
    internal static async Task<T> Guard<T>(Func<Task<T>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (LabException e)
        {
            throw new CommandFailedException($"kvorum lab: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CommandFailedException($"kvorum lab: {e.Message}", e);
        }
    }
}
