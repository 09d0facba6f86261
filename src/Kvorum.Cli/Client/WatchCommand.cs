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
/// server</c> and exits with 5. Interactive mode reads <c>watch [flags] KEY [RANGE_END]</c> and <c>progress</c>
/// lines from standard input, each watch on a stream of its own, and exits with 3 at the end of the input.
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
            var create = syntax.Resolve(parse);
            return await WatchAsync(context, connection, create, output, cancellation).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>
    /// Runs one watch until the server ends it (exit 5) or the user interrupts it. With more than one endpoint, a
    /// stream whose member becomes unreachable or stops is opened again on the next endpoint, from the revision after
    /// the last one printed, as etcd's client resumes a watch; the command fails once every endpoint has failed in a row.
    /// </summary>
    private static async Task<int> WatchAsync(CliContext context, EtcdConnection connection, WatchCreateRequest create, WatchOutput output, CancellationToken cancellation)
    {
        var endpoints = connection.Endpoints;
        var resume = new WatchResume(create);
        for (var attempt = 0; ; attempt++)
        {
            var endpoint = endpoints[attempt % endpoints.Count];
            using var watch = KeyWatch.Open(connection.Channel(endpoint), resume.Request, cancellation);
            try
            {
                await PrintAsync(context, watch, output, cancellation, endpoints.Count > 1 ? resume : null).ConfigureAwait(false);
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
    private static async Task PrintAsync(CliContext context, KeyWatch watch, WatchOutput output, CancellationToken cancellation, WatchResume? resume = null)
    {
        try
        {
            await foreach (var response in watch.ResponsesAsync(cancellation).ConfigureAwait(false))
            {
                resume?.Saw(response);
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
                if (await ReadLineAsync(context, syntax, line).ConfigureAwait(false) is not { } create)
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
                printers.Add(PrintAsync(context, opened, output, stop.Token));
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

    /// <summary>The create request of a <c>watch</c> line; null for <c>progress</c> and for a wrong line, which is reported on stderr.</summary>
    private static async Task<WatchCreateRequest?> ReadLineAsync(CliContext context, Syntax syntax, string line)
    {
        try
        {
            var words = TxnParser.Split(line, 1);
            if (words.Count == 1 && words[0] == "progress")
                return null;
            if (words.Count > 0 && words[0] != "watch")
                throw new UsageException("only support watch");
            if (words.Count < 2)
                throw new UsageException("command type or key is not provided");
            var parse = syntax.Command.Parse(words[1..], Literal);
            if (parse.Errors.Count > 0)
                throw new UsageException(parse.Errors[0].Message);
            return syntax.Resolve(parse);
        }
        catch (UsageException e)
        {
            await context.Error.WriteLineAsync($"Invalid command {line.Trim()} ({e.Message})").ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>watch's arguments and flags, declared once for the command line and for the lines of <c>watch -i</c>.</summary>
    private sealed class Syntax
    {
        public Syntax() =>
            Command = new Command("watch", "Watch a key or a range of keys and print each change.") { Key, RangeEnd, Prefix, Revision, PrevKv, ProgressNotify };

        public Command Command { get; }

        public Argument<string?> Key { get; } = new("key") { Description = "The key, or the first key of the range.", Arity = ArgumentArity.ZeroOrOne };

        public Argument<string?> RangeEnd { get; } = new("range_end") { Description = "End of the range, exclusive.", Arity = ArgumentArity.ZeroOrOne };

        public Option<bool> Prefix { get; } = new("--prefix") { Description = "Every key with KEY as a prefix." };

        public Option<long> Revision { get; } = new("--rev") { Description = "The revision to start watching at (0: the next one)." };

        public Option<bool> PrevKv { get; } = new("--prev-kv") { Description = "Print each event's previous key-value pair." };

        public Option<bool> ProgressNotify { get; } = new("--progress-notify") { Description = "Ask the server for periodic progress notifications." };

        /// <summary>The create request the flags ask for.</summary>
        /// <exception cref="UsageException">No key, or a range end with <c>--prefix</c>, or a negative revision.</exception>
        public WatchCreateRequest Resolve(ParseResult parse)
        {
            var key = parse.GetValue(Key) ?? throw new UsageException("bad number of arguments: a key is needed");
            var end = parse.GetValue(RangeEnd);
            var prefix = parse.GetValue(Prefix);
            if (prefix && end is not null)
                throw new UsageException("`range_end` and `--prefix` are mutually exclusive");
            var revision = parse.GetValue(Revision);
            if (revision < 0)
                throw new UsageException("--rev must not be negative");
            var keyBytes = ByteString.CopyFromUtf8(key);
            return new WatchCreateRequest
            {
                Key = keyBytes,
                RangeEnd = prefix ? KeyRanges.PrefixEnd(keyBytes) : end is null ? ByteString.Empty : ByteString.CopyFromUtf8(end),
                StartRevision = revision,
                PrevKv = parse.GetValue(PrevKv),
                ProgressNotify = parse.GetValue(ProgressNotify),
            };
        }
    }
}
