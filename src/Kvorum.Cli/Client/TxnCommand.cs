using System.CommandLine;
using Kvorum.Cli.Output;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Client;

/// <summary><c>kvorum txn</c>: reads a transaction in etcdctl's text format from stdin (see <see cref="TxnParser"/>).</summary>
internal static class TxnCommand
{
    /// <summary>Creates the command.</summary>
    /// <param name="context">Streams and environment.</param>
    /// <param name="global">The shared client flags.</param>
    /// <returns>The <c>txn</c> command.</returns>
    public static Command Create(CliContext context, GlobalOptions global)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(global);
        var command = new Command("txn", "Run a transaction read from stdin: compares, blank line, success ops, blank line, failure ops.");
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            var text = await context.In.ReadToEndAsync(cancellation).ConfigureAwait(false);
            var request = TxnParser.Parse(text);
            using var connection = new EtcdConnection(settings);
            var response = await connection.CallAsync(
                (channel, options) => new KV.KVClient(channel).TxnAsync(request, options).ResponseAsync, cancellation).ConfigureAwait(false);
            new OutputWriter(context.Out, settings.Output).Txn(response);
            return ExitCodes.Ok;
        });
        return command;
    }
}
