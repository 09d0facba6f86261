using System.CommandLine;
using System.Net;
using Kvorum.Cli.Client;

namespace Kvorum.Cli.View;

/// <summary>
/// <c>kvorum view [--endpoints …] [--listen 127.0.0.1:8080]</c>: serves a page that shows the members' Raft at work
/// (<see cref="ViewServer"/>), prints its URL, and runs until Ctrl-C.
/// </summary>
internal static class ViewCommand
{
    /// <summary>The default address of the page.</summary>
    public const string DefaultListen = "127.0.0.1:8080";

    /// <summary>Creates the command.</summary>
    /// <param name="context">Streams and environment.</param>
    /// <param name="global">The shared client flags (<c>--endpoints</c>).</param>
    /// <returns>The <c>view</c> command.</returns>
    public static Command Create(CliContext context, GlobalOptions global)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(global);
        var listen = new Option<string>("--listen") { Description = $"Address of the page (default {DefaultListen}).", DefaultValueFactory = _ => DefaultListen };
        var command = new Command("view", "Serve a page that shows the members' Raft at work: roles, terms, timers, messages and logs.") { listen };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            await using var server = new ViewServer(settings, ParseListen(parse.GetValue(listen) ?? DefaultListen));
            await StartAsync(server, parse.GetValue(listen) ?? DefaultListen).ConfigureAwait(false);
            await context.Out.WriteLineAsync($"view: {server.Url} (Ctrl-C stops it)").ConfigureAwait(false);
            try
            {
                await Task.Delay(Timeout.Infinite, cancellation).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Starts <paramref name="server"/>, turning a taken address into one line.</summary>
    /// <exception cref="CommandFailedException">The address is taken.</exception>
    public static async Task StartAsync(ViewServer server, string listen)
    {
        ArgumentNullException.ThrowIfNull(server);
        try
        {
            await server.StartAsync().ConfigureAwait(false);
        }
        catch (IOException e)
        {
            throw new CommandFailedException($"kvorum view: cannot listen on {listen}: {e.Message}");
        }
    }

    /// <summary>Parses <c>HOST:PORT</c> (an IP address; port 0 picks a free one).</summary>
    /// <exception cref="UsageException">It is not one.</exception>
    public static IPEndPoint ParseListen(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var candidate = text.Contains("://", StringComparison.Ordinal) ? new Uri(text).Authority : text;
        if (IPEndPoint.TryParse(candidate, out var endpoint) && candidate.Contains(':', StringComparison.Ordinal))
            return endpoint;
        if (candidate.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase) && int.TryParse(candidate["localhost:".Length..], out var port) && port is >= 0 and <= 65535)
            return new IPEndPoint(IPAddress.Loopback, port);
        throw new UsageException($"--listen must be HOST:PORT with an IP address, e.g. {DefaultListen}, got \"{text}\"");
    }
}
