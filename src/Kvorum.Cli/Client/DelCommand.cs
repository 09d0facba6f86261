using System.CommandLine;
using Kvorum.Cli.Output;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Client;

/// <summary><c>kvorum del KEY [RANGE_END] [--prefix] [--from-key] [--prev-kv]</c>.</summary>
public static class DelCommand
{
    /// <summary>Creates the command.</summary>
    /// <param name="context">Streams and environment.</param>
    /// <param name="global">The shared client flags.</param>
    /// <returns>The <c>del</c> command.</returns>
    public static Command Create(CliContext context, GlobalOptions global)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(global);
        var range = new RangeArguments();
        var prevKv = new Option<bool>("--prev-kv") { Description = "Print the deleted key-value pairs." };
        var command = new Command("del", "Delete a key or a range of keys.") { prevKv };
        range.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            ClientSettings settings = global.Resolve(parse, context);
            (var key, var end) = range.Resolve(parse);
            var request = new DeleteRangeRequest { Key = key, RangeEnd = end, PrevKv = parse.GetValue(prevKv) };
            using var connection = new EtcdConnection(settings);
            DeleteRangeResponse response = await connection.CallAsync(
                (channel, options) => new KV.KVClient(channel).DeleteRangeAsync(request, options).ResponseAsync, cancellation).ConfigureAwait(false);
            new OutputWriter(context.Out, settings.Output).Delete(response);
            return ExitCodes.Ok;
        });
        return command;
    }
}
