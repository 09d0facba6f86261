using System.CommandLine;
using System.CommandLine.Parsing;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Kvorum.Cli.Output;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Recipes;

namespace Kvorum.Cli.Client;

/// <summary>
/// <c>kvorum watch KEY [RANGE_END] [--prefix] [--rev N] [--prev-kv] [--progress-notify]</c> and <c>kvorum watch -i</c>,
/// as etcdctl does them: events printed as they come (<see cref="WatchOutput"/>) until interrupted; a watch the server
/// ends (a compacted start revision) prints <c>watch was canceled (…)</c> and <c>Error: watch is canceled by the
/// server</c> and exits with 5. Interactive mode reads <c>watch [flags] KEY [RANGE_END] [-- COMMAND ARGS...]</c> and
/// <c>progress</c> lines from standard input, each watch on a stream of its own, and exits with 3 at the end of the input.
/// </summary>
internal static class WatchCommand
{
    private static readonly ParserConfiguration Literal = new() { ResponseFileTokenReplacer = null };

    /// <summary>Creates the command.</summary>
    /// <param name="context">Streams and environment.</param>
    /// <param name="global">The shared client flags.</param>
    /// <returns>The <c>watch</c> command.</returns>
    public static Command Create(CliContext context, GlobalOptions global)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(global);
        var syntax = new Syntax();
        var interactive = new Option<bool>("--interactive", "-i") { Description = "Read watch and progress commands from stdin." };
        var command = syntax.Command;
        command.Options.Add(interactive);
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            var output = new WatchOutput(context.Out, settings.Output);
            using var connection = new EtcdConnection(settings);
            if (parse.GetValue(interactive))
                return await InteractiveAsync(context, syntax, connection.Channel(connection.Endpoints[0]), output, cancellation).ConfigureAwait(false);
            if (syntax.ResolveCommandLine(parse, context.GetEnvironmentVariable, out var exec, out var problem) is not { } create)
            {
                // etcdctl's argument errors: "Error: bad number of arguments (…)", exit 128.
                await context.Error.WriteLineAsync($"Error: {problem}").ConfigureAwait(false);
                return EtcdctlExitCodes.BadArgs;
            }
            return await WatchAsync(context, connection, create, output, exec, cancellation).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>
    /// Runs one watch until the server ends it (exit 5) or the user interrupts it. With more than one endpoint, a
    /// stream whose member becomes unreachable or stops is opened again on the next endpoint, from the revision after
    /// the last one printed, as etcd's client resumes a watch; the command fails once every endpoint has failed in a row.
    /// </summary>
    private static async Task<int> WatchAsync(CliContext context, EtcdConnection connection, WatchCreateRequest create, WatchOutput output, WatchExec? exec, CancellationToken cancellation)
    {
        var endpoints = connection.Endpoints;
        var resume = new WatchResume(create);
        for (var attempt = 0; ; attempt++)
        {
            var endpoint = endpoints[attempt % endpoints.Count];
            using var watch = KeyWatch.Open(connection.Channel(endpoint), resume.Request, cancellation);
            try
            {
                await PrintAsync(context, watch, output, cancellation, endpoints.Count > 1 ? resume : null, exec).ConfigureAwait(false);
                break;
            }
            catch (RpcException e) when (EtcdConnection.IsUnreachable(e) || (endpoints.Count > 1 && e.StatusCode == StatusCode.Unavailable))
            {
                if (endpoints.Count == 1 || resume.Failed() >= endpoints.Count)
                    throw new CommandFailedException(EtcdConnection.IsUnreachable(e) ? EtcdConnection.UnreachableLine(endpoint, e) : EtcdConnection.ErrorLine(e), e);
            }
        }
        await context.Error.WriteLineAsync("Error: watch is canceled by the server").ConfigureAwait(false);
        return EtcdctlExitCodes.Interrupted;
    }

    /// <summary>
    /// Prints a watch's answers until it ends; says on stderr why the server ended it. With <paramref name="resume"/>,
    /// an Unavailable end (a member stopping) is thrown for the caller to resume elsewhere, and each answer is noted.
    /// </summary>
    private static async Task PrintAsync(CliContext context, KeyWatch watch, WatchOutput output, CancellationToken cancellation, WatchResume? resume = null, WatchExec? exec = null)
    {
        try
        {
            await foreach (var response in watch.ResponsesAsync(cancellation, includeCreated: resume is not null).ConfigureAwait(false))
            {
                resume?.Saw(response);
                if (response.Created && !response.Canceled)
                    continue; // seen only for where a resumed watch starts
                if (response.Canceled)
                {
                    await context.Error.WriteLineAsync($"watch was canceled ({WatchOutput.CancelReason(response)})").ConfigureAwait(false);
                    // A refused create is not the server's answer to the user but the Go client's own.
                    if (response.Created || response.WatchId == -1)
                    {
                        output.Closed();
                        return;
                    }
                }
                output.Response(response);
                if (exec is not null)
                    await exec.RunAsync(context, response, cancellation).ConfigureAwait(false);
            }
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellation.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellation);
        }
        catch (RpcException e) when (!EtcdConnection.IsUnreachable(e) && !(resume is not null && e.StatusCode == StatusCode.Unavailable))
        {
            await context.Error.WriteLineAsync($"watch was canceled ({(e.Status.Detail.Length > 0 ? e.Status.Detail : e.StatusCode.ToString())})").ConfigureAwait(false);
            output.Closed();
        }
    }

    /// <summary>etcdctl's <c>watch -i</c>: one watch per <c>watch</c> line, a progress request to each for <c>progress</c>.</summary>
    private static async Task<int> InteractiveAsync(CliContext context, Syntax syntax, GrpcChannel channel, WatchOutput output, CancellationToken cancellation)
    {
        var watches = new List<KeyWatch>();
        var printers = new List<Task>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        try
        {
            while (await context.In.ReadLineAsync(cancellation).ConfigureAwait(false) is { } line)
            {
                var read = await ReadLineAsync(context, syntax, line).ConfigureAwait(false);
                if (read.Problem is { } problem)
                {
                    // etcdctl ends on a watch line whose arguments do not fit, as it would on its command line.
                    await context.Error.WriteLineAsync($"Error: {problem}").ConfigureAwait(false);
                    return EtcdctlExitCodes.BadArgs;
                }
                if (read.Create is not { } create)
                {
                    if (line.Trim() == "progress")
                    {
                        foreach (var watch in watches)
                            await RequestProgressAsync(watch, cancellation).ConfigureAwait(false);
                    }
                    continue;
                }
                var opened = KeyWatch.Open(channel, create, stop.Token);
                watches.Add(opened);
                printers.Add(PrintAsync(context, opened, output, stop.Token, exec: read.Exec));
            }
        }
        finally
        {
            // The watches end with the input, quietly: no "canceled" line for a watch the user did not lose.
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await Task.WhenAll(printers).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            foreach (var watch in watches)
                watch.Dispose();
        }
        await context.Error.WriteLineAsync("Error: Error reading watch request line: EOF").ConfigureAwait(false);
        return EtcdctlExitCodes.InvalidInput;
    }

    /// <summary>Asks one watch's stream for progress; a stream that has ended has said so already.</summary>
    private static async Task RequestProgressAsync(KeyWatch watch, CancellationToken cancellation)
    {
        try
        {
            await watch.RequestProgressAsync(cancellation).ConfigureAwait(false);
        }
        catch (RpcException) when (!cancellation.IsCancellationRequested)
        {
        }
        catch (InvalidOperationException)
        {
            // The request stream was completed when the server ended the call.
        }
    }

    /// <summary>What a line of <c>watch -i</c> asks: a watch (and the command to run per event), or nothing, or an end.</summary>
    /// <param name="Create">The watch to open; null for <c>progress</c> and for a wrong line, which is reported on stderr.</param>
    /// <param name="Exec">The command after <c>--</c>, run for each event; null for none.</param>
    /// <param name="Problem">etcdctl's argument error that ends the command (exit 128); null when the line may be taken.</param>
    private readonly record struct InteractiveLine(WatchCreateRequest? Create, WatchExec? Exec, string? Problem);

    /// <summary>
    /// Reads one line of <c>watch -i</c> as etcdctl does: <c>watch [flags] KEY [RANGE_END] [-- COMMAND ARGS...]</c>,
    /// with the same rules as the command line (<see cref="Syntax.ResolveCommandLine"/>).
    /// </summary>
    private static async Task<InteractiveLine> ReadLineAsync(CliContext context, Syntax syntax, string line)
    {
        try
        {
            var words = TxnParser.Split(line, 1);
            if (words.Count == 1 && words[0] == "progress")
                return default;
            if (words.Count > 0 && words[0] != "watch")
                throw new UsageException("only support watch");
            if (words.Count < 2 && context.GetEnvironmentVariable("ETCDCTL_WATCH_KEY") is not { Length: > 0 })
                throw new UsageException("command type or key is not provided");
            var parse = syntax.Command.Parse(words[1..], Literal);
            if (parse.Errors.Count > 0)
                throw new UsageException(parse.Errors[0].Message);
            var create = syntax.ResolveCommandLine(parse, context.GetEnvironmentVariable, out var exec, out var problem);
            return new InteractiveLine(create, exec, problem);
        }
        catch (UsageException e)
        {
            await context.Error.WriteLineAsync($"Invalid command {line.Trim()} ({e.Message})").ConfigureAwait(false);
            return default;
        }
    }

    /// <summary>watch's arguments and flags, declared once for the command line and for the lines of <c>watch -i</c>.</summary>
    private sealed class Syntax
    {
        public Syntax() =>
            Command = new Command("watch", "Watch a key or a range of keys and print each change; with -- COMMAND ARGS..., run COMMAND for each event.") { Words, Prefix, Revision, PrevKv, ProgressNotify };

        public Command Command { get; }

        /// <summary>KEY [RANGE_END] [-- COMMAND ARGS...]: one argument, since where <c>--</c> stands decides which is which.</summary>
        public Argument<string[]> Words { get; } = new("key [range_end] [-- command args...]")
        {
            Description = "The key, or the first key of the range; the end of the range, exclusive; after --, a command to run for each event.",
            Arity = ArgumentArity.ZeroOrMore,
        };

        public Option<bool> Prefix { get; } = new("--prefix") { Description = "Every key with KEY as a prefix." };

        public Option<long> Revision { get; } = new("--rev") { Description = "The revision to start watching at (0: the next one)." };

        public Option<bool> PrevKv { get; } = new("--prev-kv") { Description = "Print each event's previous key-value pair." };

        public Option<bool> ProgressNotify { get; } = new("--progress-notify") { Description = "Ask the server for periodic progress notifications." };

        /// <summary>
        /// The create request and the command to run per event (<paramref name="exec"/>, null for none) of a command
        /// line, with etcdctl's rules: the words before <c>--</c> are KEY [RANGE_END], those after it the command; the
        /// key and range end may come from <c>ETCDCTL_WATCH_KEY</c> and <c>ETCDCTL_WATCH_RANGE_END</c> instead. Null
        /// when the words do not fit, with etcdctl's message in <paramref name="problem"/>.
        /// </summary>
        /// <exception cref="UsageException">A range end with <c>--prefix</c>, or a negative revision.</exception>
        public WatchCreateRequest? ResolveCommandLine(ParseResult parse, Func<string, string?> environment, out WatchExec? exec, out string? problem)
        {
            var doubleDash = -1;
            for (var i = 0; i < parse.Tokens.Count && doubleDash < 0; i++)
                doubleDash = parse.Tokens[i].Type == TokenType.DoubleDash ? i : -1;
            var before = new List<string>();
            var after = new List<string>();
            var words = parse.CommandResult.Children.OfType<ArgumentResult>().FirstOrDefault(a => a.Argument == Words);
            foreach (var token in words?.Tokens ?? [])
            {
                var at = -1;
                for (var i = 0; i < parse.Tokens.Count && at < 0; i++)
                    at = ReferenceEquals(parse.Tokens[i], token) ? i : -1;
                (doubleDash >= 0 && at > doubleDash ? after : before).Add(token.Value);
            }
            var envKey = environment("ETCDCTL_WATCH_KEY") is { Length: > 0 } k ? k : null;
            var envEnd = environment("ETCDCTL_WATCH_RANGE_END") is { Length: > 0 } r ? r : null;
            problem = null;
            exec = null;
            if (doubleDash >= 0 && after.Count == 0)
                problem = "bad number of arguments (found separator --, but no commands)";
            else if (envKey is not null && before.Count > 0)
                problem = "bad number of arguments (found conflicting environment key)";
            else if (envKey is null && before.Count is 0 or > 2)
                problem = "bad number of arguments";
            if (problem is not null)
                return null;
            exec = after.Count > 0 ? new WatchExec(after) : null;
            return envKey is not null ? Resolve(parse, envKey, envEnd) : Resolve(parse, before[0], before.Count > 1 ? before[1] : null);
        }

        private WatchCreateRequest Resolve(ParseResult parse, string key, string? end)
        {
            var prefix = parse.GetValue(Prefix);
            if (prefix && end is not null)
                throw new UsageException("`range_end` and `--prefix` are mutually exclusive");
            var revision = parse.GetValue(Revision);
            if (revision < 0)
                throw new UsageException("--rev must not be negative");
            var keyBytes = ByteString.CopyFromUtf8(key);
            var everything = prefix && keyBytes.IsEmpty; // "" --prefix: every key, as etcd's client
            return new WatchCreateRequest
            {
                Key = everything ? KeyRanges.FromKey : keyBytes,
                RangeEnd = everything ? KeyRanges.FromKey : prefix ? KeyRanges.PrefixEnd(keyBytes) : end is null ? ByteString.Empty : ByteString.CopyFromUtf8(end),
                StartRevision = revision,
                PrevKv = parse.GetValue(PrevKv),
                ProgressNotify = parse.GetValue(ProgressNotify),
            };
        }
    }
}
