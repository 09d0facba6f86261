using System.CommandLine;
using Kvorum.Cli.Output;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Client;

/// <summary><c>kvorum del KEY [RANGE_END] [--prefix] [--from-key] [--prev-kv]</c>.</summary>
internal static class DelCommand
{
    /// <summary>Creates the command.</summary>
    /// <param name="context">Streams and environment.</param>
    /// <param name="global">The shared client flags.</param>
    /// <returns>The <c>del</c> command.</returns>
    public static Command Create(CliContext context, GlobalOptions global)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(global);
        var syntax = new Syntax();
        var command = syntax.Command;
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            (var key, var end) = syntax.Range.Resolve(parse);
            var request = new DeleteRangeRequest { Key = key, RangeEnd = end, PrevKv = parse.GetValue(syntax.PrevKv) };
            using var connection = new EtcdConnection(settings);
            var response = await connection.CallAsync(
                (channel, options) => new KV.KVClient(channel).DeleteRangeAsync(request, options).ResponseAsync, cancellation).ConfigureAwait(false);
            new OutputWriter(context.Out, settings.Output).Delete(response);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>del's arguments and flags, declared once for the command and for the del ops of <c>txn</c> (<see cref="TxnParser"/>).</summary>
    internal sealed class Syntax
    {
        /// <summary>Creates the declarations and a <c>del</c> command holding them, with no action.</summary>
        public Syntax()
        {
            Command = new Command("del", "Delete a key or a range of keys.") { PrevKv };
            Range.AddTo(Command);
        }

        /// <summary>The command the declarations belong to.</summary>
        public Command Command { get; }

        /// <summary><c>KEY [RANGE_END] [--prefix] [--from-key]</c>.</summary>
        public RangeArguments Range { get; } = new();

        /// <summary><c>--prev-kv</c>.</summary>
        public Option<bool> PrevKv { get; } = new("--prev-kv") { Description = "Print the deleted key-value pairs." };
    }
}
