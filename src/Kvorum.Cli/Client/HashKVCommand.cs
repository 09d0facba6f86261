using System.CommandLine;
using Kvorum.Cli.Output;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Client;

/// <summary>
/// <c>kvorum hashkv [--rev REV]</c>: Maintenance.HashKV on every endpoint, to check that members hold the same
/// history (etcdctl's <c>endpoint hashkv</c>). Members that hashed the same revision after the same compaction must
/// agree; when they do not, the command says so and exits 1, as it does when an endpoint fails.
/// </summary>
internal static class HashKVCommand
{
    /// <summary>Creates the command.</summary>
    /// <param name="context">Streams and environment.</param>
    /// <param name="global">The shared client flags.</param>
    /// <returns>The <c>hashkv</c> command.</returns>
    public static Command Create(CliContext context, GlobalOptions global) => Create(context, global, OutputFormat.Table);

    /// <summary>Creates the command, printing in <paramref name="defaultFormat"/> unless told otherwise.</summary>
    /// <param name="context">Streams and environment.</param>
    /// <param name="global">The shared client flags.</param>
    /// <param name="defaultFormat">The output format without <c>--write-out</c> (etcdctl's <c>endpoint hashkv</c>: simple).</param>
    /// <returns>The <c>hashkv</c> command.</returns>
    public static Command Create(CliContext context, GlobalOptions global, OutputFormat defaultFormat)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(global);
        var revision = new Option<long>("--rev") { Description = "Hash the history up to this revision (0: each member's current one)." };
        var command = new Command("hashkv", "Hash every endpoint's key-value history, to compare members.") { revision };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context, defaultFormat);
            if (ClusterEndpoints.Requested(parse, global.Cluster))
                settings = await ClusterEndpoints.ExpandAsync(settings, cancellation).ConfigureAwait(false);
            var rev = parse.GetValue(revision);
            if (rev < 0)
                throw new UsageException($"--rev must be 0 or a positive revision, got {rev}");
            using var connection = new EtcdConnection(settings);
            var request = new HashKVRequest { Revision = rev };
            var (answers, failures) = await connection.CallEachAsync(
                (channel, options) => new Maintenance.MaintenanceClient(channel).HashKVAsync(request, options).ResponseAsync,
                cancellation).ConfigureAwait(false);
            foreach (var failure in failures)
                await context.Error.WriteLineAsync(failure).ConfigureAwait(false);
            if (answers.Count > 0)
                new OutputWriter(context.Out, settings.Output).HashKV(answers);

            var disagreements = answers
                .GroupBy(a => (a.Response.HashRevision, a.Response.CompactRevision))
                .Where(g => g.Select(a => a.Response.Hash).Distinct().Count() > 1)
                .ToList();
            foreach (var group in disagreements)
            {
                await context.Error.WriteLineAsync(
                    $"Error: members disagree at revision {group.Key.HashRevision} (compacted at {group.Key.CompactRevision}): "
                    + string.Join(", ", group.Select(a => $"{a.Endpoint} {a.Response.Hash}"))).ConfigureAwait(false);
            }
            return failures.Count == 0 && disagreements.Count == 0 ? ExitCodes.Ok : ExitCodes.Failure;
        });
        return command;
    }
}
