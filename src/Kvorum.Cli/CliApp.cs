using System.CommandLine;
using Kvorum.Cli.Bench;
using Kvorum.Cli.Client;
using Kvorum.Cli.Cluster;
using Kvorum.Cli.Serve;

namespace Kvorum.Cli;

/// <summary>
/// The <c>kvorum</c> command tree and its one invariant: a user mistake ends in one line on stderr and exit
/// code 2, a failed command in one line and exit code 1, never a stack trace.
/// </summary>
internal static class CliApp
{
    /// <summary>The name every error line starts with.</summary>
    public const string Name = "kvorum";

    /// <summary>Parses <paramref name="args"/>, runs the command and returns the process exit code.</summary>
    /// <param name="args">The command line, without the program name.</param>
    /// <param name="context">Streams, environment and server entry point.</param>
    /// <returns>The exit code (<see cref="ExitCodes"/>, or the server's own).</returns>
    public static async Task<int> RunAsync(string[] args, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(context);

        var root = BuildRoot(context);
        var parse = root.Parse(args);
        var path = CommandPath(parse);
        if (parse.Errors.Count > 0)
        {
            await context.Error.WriteLineAsync($"{path}: {OneLine(parse.Errors[0].Message)}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        if (UnknownFlag(parse) is { } flag)
        {
            await context.Error.WriteLineAsync($"{path}: unknown flag: {flag} (a key or value that starts with '-' goes after --)").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        var shutdown = context.ShutdownToken?.Invoke() ?? CancellationToken.None;
        var invocation = new InvocationConfiguration
        {
            Output = context.Out,
            Error = context.Error,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = null,
        };
        try
        {
            return await parse.InvokeAsync(invocation, shutdown).ConfigureAwait(false);
        }
        catch (UsageException e)
        {
            await context.Error.WriteLineAsync($"{path}: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        catch (CommandFailedException e)
        {
            await context.Error.WriteLineAsync(e.Message).ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (Kvorum.Etcd.Errors.EtcdException e)
        {
            // A recipe's own failure (the lock and election recipes are shared with the server), in etcdctl's words.
            await context.Error.WriteLineAsync($"Error: {e.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
        catch (Exception e) when (shutdown.IsCancellationRequested && e is OperationCanceledException or Grpc.Core.RpcException { StatusCode: Grpc.Core.StatusCode.Cancelled })
        {
            // A stream (watch, keep-alive) cut by Ctrl-C ends in a cancelled call rather than a cancelled task.
            await context.Error.WriteLineAsync($"{path}: interrupted").ConfigureAwait(false);
            return 130;
        }
        catch (Grpc.Core.RpcException e)
        {
            // A stream that broke outside EtcdConnection's calls (a watch or keep-alive stream), in etcdctl's words.
            await context.Error.WriteLineAsync(EtcdConnection.ErrorLine(e)).ConfigureAwait(false);
            return ExitCodes.Failure;
        }
    }

    /// <summary>Builds the whole command tree.</summary>
    /// <param name="context">Passed to every command action.</param>
    /// <returns>The root command.</returns>
    public static RootCommand BuildRoot(CliContext context)
    {
        var global = new GlobalOptions();
        var root = new RootCommand("Kvorum: a Raft-replicated key-value store speaking etcd's v3 API.");
        global.AddTo(root);
        root.Subcommands.Add(ServeCommand.Create(context));
        root.Subcommands.Add(ClusterUpCommand.Create(context));
        root.Subcommands.Add(PutCommand.Create(context, global));
        root.Subcommands.Add(GetCommand.Create(context, global));
        root.Subcommands.Add(DelCommand.Create(context, global));
        root.Subcommands.Add(TxnCommand.Create(context, global));
        root.Subcommands.Add(CompactionCommand.Create(context, global));
        root.Subcommands.Add(WatchCommand.Create(context, global));
        root.Subcommands.Add(LeaseCommand.Create(context, global));
        root.Subcommands.Add(LockCommand.Create(context, global));
        root.Subcommands.Add(ElectCommand.Create(context, global));
        root.Subcommands.Add(StatusCommand.Create(context, global));
        root.Subcommands.Add(HashKVCommand.Create(context, global));
        root.Subcommands.Add(EndpointCommand.Create(context, global));
        root.Subcommands.Add(AlarmCommand.Create(context, global));
        root.Subcommands.Add(MemberCommand.Create(context, global));
        root.Subcommands.Add(MoveLeaderCommand.Create(context, global));
        root.Subcommands.Add(SnapshotCommand.Create(context, global));
        root.Subcommands.Add(DefragCommand.Create(context, global));
        root.Subcommands.Add(UserCommand.Create(context, global));
        root.Subcommands.Add(RoleCommand.Create(context, global));
        root.Subcommands.Add(AuthCommand.Create(context, global));
        root.Subcommands.Add(BenchCommand.Create(context, global));
        root.Subcommands.Add(Lab.LabCommand.Create(context));
        root.Subcommands.Add(View.ViewCommand.Create(context, global));
        return root;
    }

    /// <summary>
    /// A token that looks like a flag but was taken as a command's argument, because the command had a free argument
    /// slot (<c>kvorum get a --print-values</c> would otherwise read the range [a, "--print-values")). As etcdctl does,
    /// such a token is refused unless it comes after <c>--</c>; an option's own value (<c>--rev -1</c>) is not checked.
    /// </summary>
    private static string? UnknownFlag(ParseResult parse)
    {
        var doubleDash = IndexOf(t => t.Type == System.CommandLine.Parsing.TokenType.DoubleDash);
        foreach (var argument in parse.CommandResult.Children.OfType<System.CommandLine.Parsing.ArgumentResult>())
        {
            foreach (var token in argument.Tokens)
            {
                if (token.Value.Length >= 2 && token.Value[0] == '-' && (doubleDash < 0 || IndexOf(t => ReferenceEquals(t, token)) < doubleDash))
                    return token.Value;
            }
        }
        return null;

        int IndexOf(Func<System.CommandLine.Parsing.Token, bool> match)
        {
            for (var i = 0; i < parse.Tokens.Count; i++)
            {
                if (match(parse.Tokens[i]))
                    return i;
            }
            return -1;
        }
    }

    /// <summary>Folds a multi-line parser message ("Must be one of:\n\t'l'\n\t's'") into one line.</summary>
    private static string OneLine(string message)
    {
        var lines = message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length <= 1 ? message.Trim() : $"{lines[0]} {string.Join(", ", lines[1..])}";
    }

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Add(result.Parent is null ? Name : result.Command.Name);
        }

        names.Reverse();
        return string.Join(' ', names);
    }
}
