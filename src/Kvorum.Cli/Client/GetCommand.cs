using System.CommandLine;
using Kvorum.Cli.Output;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Client;

/// <summary>
/// <c>kvorum get KEY [RANGE_END] [--prefix] [--from-key] [--limit N] [--rev N] [--keys-only] [--count-only]
/// [--print-value-only] [--sort-by TARGET] [--order ASCEND|DESCEND] [--consistency l|s]</c>, with etcdctl's flags and output.
/// </summary>
internal static class GetCommand
{
    /// <summary>Creates the command.</summary>
    /// <param name="context">Streams and environment.</param>
    /// <param name="global">The shared client flags.</param>
    /// <returns>The <c>get</c> command.</returns>
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
            if (parse.GetValue(syntax.Limit) < 0)
                throw new UsageException("--limit must not be negative");
            if (parse.GetValue(syntax.Revision) < 0)
                throw new UsageException("--rev must not be negative");
            var request = new RangeRequest
            {
                Key = key,
                RangeEnd = end,
                Limit = parse.GetValue(syntax.Limit),
                Revision = parse.GetValue(syntax.Revision),
                KeysOnly = parse.GetValue(syntax.KeysOnly),
                CountOnly = parse.GetValue(syntax.CountOnly),
                Serializable = parse.GetValue(syntax.Consistency) == "s",
            };
            (request.SortTarget, request.SortOrder) = Sorting(parse.GetValue(syntax.SortBy), parse.GetValue(syntax.Order));
            using var connection = new EtcdConnection(settings);
            var response = await connection.CallAsync(
                (channel, options) => new KV.KVClient(channel).RangeAsync(request, options).ResponseAsync, cancellation).ConfigureAwait(false);
            new OutputWriter(context.Out, settings.Output).Range(response, request.KeysOnly, request.CountOnly, parse.GetValue(syntax.ValuesOnly));
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

    /// <summary>get's arguments and flags, declared once for the command and for the get ops of <c>txn</c> (<see cref="TxnParser"/>).</summary>
    internal sealed class Syntax
    {
        /// <summary>Creates the declarations and a <c>get</c> command holding them, with no action.</summary>
        public Syntax()
        {
            Consistency.AcceptOnlyFromAmong("l", "s");
            Command = new Command("get", "Get a key or a range of keys.") { Limit, Revision, KeysOnly, CountOnly, ValuesOnly, SortBy, Order, Consistency };
            Range.AddTo(Command);
        }

        /// <summary>The command the declarations belong to.</summary>
        public Command Command { get; }

        /// <summary><c>KEY [RANGE_END] [--prefix] [--from-key]</c>.</summary>
        public RangeArguments Range { get; } = new();

        /// <summary><c>--limit</c>.</summary>
        public Option<long> Limit { get; } = new("--limit") { Description = "At most this many keys (0: no limit)." };

        /// <summary><c>--rev</c>.</summary>
        public Option<long> Revision { get; } = new("--rev") { Description = "Read as of this revision (0: newest)." };

        /// <summary><c>--keys-only</c>.</summary>
        public Option<bool> KeysOnly { get; } = new("--keys-only") { Description = "Print keys only." };

        /// <summary><c>--count-only</c>.</summary>
        public Option<bool> CountOnly { get; } = new("--count-only") { Description = "Print the number of keys only." };

        /// <summary><c>--print-value-only</c>.</summary>
        public Option<bool> ValuesOnly { get; } = new("--print-value-only") { Description = "Print values only (not with --write-out json)." };

        /// <summary><c>--sort-by</c>.</summary>
        public Option<string> SortBy { get; } = new("--sort-by") { Description = "Sort by CREATE, KEY, MODIFY, VALUE or VERSION." };

        /// <summary><c>--order</c>.</summary>
        public Option<string> Order { get; } = new("--order") { Description = "Sort order: ASCEND or DESCEND." };

        /// <summary><c>--consistency</c>: l or s.</summary>
        public Option<string> Consistency { get; } = new("--consistency")
        {
            Description = "l (linearizable, default) or s (serializable).",
            DefaultValueFactory = _ => "l",
        };
    }
}
