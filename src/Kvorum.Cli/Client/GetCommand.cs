using System.CommandLine;
using Kvorum.Cli.Output;
using Kvorum.Server.Etcd;

namespace Kvorum.Cli.Client;

/// <summary><c>kvorum get KEY [RANGE_END] [--prefix] [--from-key] [--limit N] [--rev N] [--keys-only] [--count-only] [--consistency l|s]</c>.</summary>
public static class GetCommand
{
    /// <summary>Creates the command.</summary>
    /// <param name="context">Streams and environment.</param>
    /// <param name="global">The shared client flags.</param>
    /// <returns>The <c>get</c> command.</returns>
    public static Command Create(CliContext context, GlobalOptions global)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(global);
        var range = new RangeArguments();
        var limit = new Option<long>("--limit") { Description = "At most this many keys (0: no limit)." };
        var revision = new Option<long>("--rev") { Description = "Read as of this revision (0: newest)." };
        var keysOnly = new Option<bool>("--keys-only") { Description = "Print keys only." };
        var countOnly = new Option<bool>("--count-only") { Description = "Print the number of keys only." };
        var consistency = new Option<string>("--consistency")
        {
            Description = "l (linearizable, default) or s (serializable).",
            DefaultValueFactory = _ => "l",
        };
        consistency.AcceptOnlyFromAmong("l", "s");
        var command = new Command("get", "Get a key or a range of keys.") { limit, revision, keysOnly, countOnly, consistency };
        range.AddTo(command);
        command.SetAction(async (parse, cancellation) =>
        {
            ClientSettings settings = global.Resolve(parse, context);
            (var key, var end) = range.Resolve(parse);
            if (parse.GetValue(limit) < 0)
                throw new UsageException("--limit must not be negative");
            if (parse.GetValue(revision) < 0)
                throw new UsageException("--rev must not be negative");
            var request = new RangeRequest
            {
                Key = key,
                RangeEnd = end,
                Limit = parse.GetValue(limit),
                Revision = parse.GetValue(revision),
                KeysOnly = parse.GetValue(keysOnly),
                CountOnly = parse.GetValue(countOnly),
                Serializable = parse.GetValue(consistency) == "s",
            };
            using var connection = new EtcdConnection(settings);
            RangeResponse response = await connection.CallAsync(
                (channel, options) => new KV.KVClient(channel).RangeAsync(request, options).ResponseAsync, cancellation).ConfigureAwait(false);
            new OutputWriter(context.Out, settings.Output).Range(response, request.KeysOnly, request.CountOnly);
            return ExitCodes.Ok;
        });
        return command;
    }
}
