using System.CommandLine;
using Kvorum.Cli.Output;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Client;

/// <summary>
/// <c>kvorum get KEY [RANGE_END] [--prefix] [--from-key] [--limit N] [--rev N] [--keys-only] [--count-only]
/// [--print-value-only] [--sort-by TARGET] [--order ASCEND|DESCEND] [--consistency l|s]</c>, with etcdctl's flags and output.
/// </summary>
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
        var valuesOnly = new Option<bool>("--print-value-only") { Description = "Print values only (not with --write-out json)." };
        var sortBy = new Option<string>("--sort-by") { Description = "Sort by CREATE, KEY, MODIFY, VALUE or VERSION." };
        var order = new Option<string>("--order") { Description = "Sort order: ASCEND or DESCEND." };
        var consistency = new Option<string>("--consistency")
        {
            Description = "l (linearizable, default) or s (serializable).",
            DefaultValueFactory = _ => "l",
        };
        consistency.AcceptOnlyFromAmong("l", "s");
        var command = new Command("get", "Get a key or a range of keys.") { limit, revision, keysOnly, countOnly, valuesOnly, sortBy, order, consistency };
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
            (request.SortTarget, request.SortOrder) = Sorting(parse.GetValue(sortBy), parse.GetValue(order));
            using var connection = new EtcdConnection(settings);
            RangeResponse response = await connection.CallAsync(
                (channel, options) => new KV.KVClient(channel).RangeAsync(request, options).ResponseAsync, cancellation).ConfigureAwait(false);
            new OutputWriter(context.Out, settings.Output).Range(response, request.KeysOnly, request.CountOnly, parse.GetValue(valuesOnly));
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>
    /// etcdctl's <c>--sort-by</c> and <c>--order</c> (either case), as etcd's Go client sends them: no target means
    /// the key; KEY ascending is sent as no order (the server's own order); a target without an order is sent as
    /// it is, and the server then sorts only the first limit + 1 keys (etcd's rule).
    /// </summary>
    internal static (RangeRequest.Types.SortTarget Target, RangeRequest.Types.SortOrder Order) Sorting(string? sortBy, string? order)
    {
        var sortOrder = (order ?? "").ToUpperInvariant() switch
        {
            "" => RangeRequest.Types.SortOrder.None,
            "ASCEND" => RangeRequest.Types.SortOrder.Ascend,
            "DESCEND" => RangeRequest.Types.SortOrder.Descend,
            _ => throw new UsageException($"bad sort order {order}: expected ASCEND or DESCEND"),
        };
        var target = (sortBy ?? "").ToUpperInvariant() switch
        {
            "" or "KEY" => RangeRequest.Types.SortTarget.Key,
            "CREATE" => RangeRequest.Types.SortTarget.Create,
            "MODIFY" => RangeRequest.Types.SortTarget.Mod,
            "VALUE" => RangeRequest.Types.SortTarget.Value,
            "VERSION" => RangeRequest.Types.SortTarget.Version,
            _ => throw new UsageException($"bad sort target {sortBy}: expected CREATE, KEY, MODIFY, VALUE or VERSION"),
        };
        if (target == RangeRequest.Types.SortTarget.Key && sortOrder == RangeRequest.Types.SortOrder.Ascend)
            sortOrder = RangeRequest.Types.SortOrder.None;
        return (target, sortOrder);
    }
}
