using System.CommandLine;
using Kvorum.Cli.Client;
using Kvorum.Cli.View;
using Kvorum.Lab;
using Kvorum.Lab.Viewing;

namespace Kvorum.Cli.Lab;

/// <summary>
/// <c>kvorum lab view</c>: the page over the lab, with its fault state drawn and its controls (<see cref="LabViewControls"/>).
/// <c>kvorum lab up</c> starts it detached (unless <c>--no-view</c>) and <c>kvorum lab down</c> stops it; it also
/// stops by itself once the lab is gone. It runs in the host's namespace and reaches each member at its address
/// on the lab's bridge.
/// </summary>
internal static partial class LabCommand
{
    private static Command ViewSubcommand(CliContext context, Option<string> dir)
    {
        var listen = new Option<string>("--listen") { Description = $"Address of the page (default {ViewCommand.DefaultListen}).", DefaultValueFactory = _ => ViewCommand.DefaultListen };
        var command = new Command("view", "Serve the page that shows the lab's members at work, with buttons for its faults (lab up starts it).") { listen };
        command.SetAction(async (parse, cancellation) =>
        {
            var directory = Path.GetFullPath(parse.GetValue(dir)!);
            var address = parse.GetValue(listen) ?? ViewCommand.DefaultListen;
            ClientSettings settings;
            using (var control = Guard(() => LabControl.Open(directory)))
            {
                // Under --tls the view dials the members as the lab's own client does: the lab's CA and client certificate.
                settings = new ClientSettings
                {
                    Endpoints = control.ClientUrls,
                    Tls = control.Tls is { } tls ? ClientTls.Create(tls.CaFile, tls.ClientCertFile, tls.ClientKeyFile, skipVerify: false) : null,
                };
            }

            await using var server = new ViewServer(settings, ViewCommand.ParseListen(address), new LabViewControls(directory));
            await ViewCommand.StartAsync(server, address).ConfigureAwait(false);
            LabViewProcess.Record(directory, server.Url);
            await context.Out.WriteLineAsync($"view: {server.Url} (Ctrl-C or `kvorum lab down` stops it)").ConfigureAwait(false);
            try
            {
                await Task.WhenAny(server.SystemGone, Task.Delay(Timeout.Infinite, cancellation)).ConfigureAwait(false);
            }
            finally
            {
                LabViewProcess.Forget(directory);
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Starts the lab's view on <paramref name="listen"/> and prints its URL; a view that fails costs only itself.</summary>
    private static async Task StartViewAsync(TextWriter output, LabControl control, string listen)
    {
        var (url, why) = control.StartView(listen);
        await output.WriteLineAsync(url is not null
            ? $"view: {url}"
            : $"the view did not start ({why}); the lab runs without one (`kvorum lab view --listen HOST:PORT` tries again, log {LabViewProcess.LogPath(control.Directory)})").ConfigureAwait(false);
    }
}
