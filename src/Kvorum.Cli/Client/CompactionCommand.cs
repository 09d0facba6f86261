using System.CommandLine;
using Kvorum.Cli.Output;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Client;

/// <summary><c>kvorum compaction REV [--physical]</c>: discards the history before revision REV.</summary>
internal static class CompactionCommand
{
    /// <summary>Creates the command.</summary>
    /// <param name="context">Streams and environment.</param>
    /// <param name="global">The shared client flags.</param>
    /// <returns>The <c>compaction</c> command.</returns>
    public static Command Create(CliContext context, GlobalOptions global)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(global);
        var revision = new Argument<long>("rev") { Description = "The revision to compact to." };
        var physical = new Option<bool>("--physical") { Description = "Wait until the compaction is applied to the backend." };
        var command = new Command("compaction", "Compact the key-value history up to a revision.") { revision, physical };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            var rev = parse.GetValue(revision);
            if (rev <= 0)
                throw new UsageException($"REV must be a positive revision, got {rev}");
            var request = new CompactionRequest { Revision = rev, Physical = parse.GetValue(physical) };
            using var connection = new EtcdConnection(settings);
            var response = await connection.CallAsync(
                (channel, options) => new KV.KVClient(channel).CompactAsync(request, options).ResponseAsync, cancellation).ConfigureAwait(false);
            new OutputWriter(context.Out, settings.Output).Compaction(rev, response);
            return ExitCodes.Ok;
        });
        return command;
    }
}
