using System.CommandLine;
using Kvorum.Cli.Output;
using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Recipes;

namespace Kvorum.Cli.Client;

/// <summary>
/// <c>kvorum elect NAME PROPOSAL</c> and <c>kvorum elect -l NAME</c>, as etcdctl does them (<see cref="LeaseElection"/>,
/// with a session lease of 60 s, etcdctl's). A candidate waits to be elected, prints its key and proposal, and
/// leads until SIGINT or SIGTERM, which resign (exit 0). An observer prints the key and value of every leader and
/// every new proposal until interrupted. A proposal with <c>-l</c>, or neither, exits with etcdctl's 128.
/// </summary>
internal static class ElectCommand
{
    /// <summary>The session lease's time to live, etcd's default for a <c>concurrency</c> session.</summary>
    private const long SessionTtlSeconds = 60;

    /// <summary>Creates the command.</summary>
    /// <param name="context">Streams and environment.</param>
    /// <param name="global">The shared client flags.</param>
    /// <returns>The <c>elect</c> command.</returns>
    public static Command Create(CliContext context, GlobalOptions global)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(global);
        var name = new Argument<string>("election-name") { Description = "The election's name (its keys are NAME/<lease>)." };
        var proposal = new Argument<string?>("proposal") { Description = "The value to lead with.", Arity = ArgumentArity.ZeroOrOne };
        var listen = new Option<bool>("--listen", "-l") { Description = "Observe the election: print each leader." };
        var command = new Command("elect", "Take part in a leader election, or observe one.") { name, proposal, listen };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            var value = parse.GetValue(proposal);
            var observe = parse.GetValue(listen);
            if (value is null != observe)
            {
                await context.Error.WriteLineAsync(observe ? "Error: proposal given but -l is set" : "Error: no proposal argument but -l not set").ConfigureAwait(false);
                return EtcdctlExitCodes.BadArgs;
            }
            var output = new OutputWriter(context.Out, settings.Output);
            using var connection = new EtcdConnection(settings);
            // etcdctl opens a session for an observer too, though it puts nothing under its lease.
            await using var session = await LeaseSession.StartAsync(connection, SessionTtlSeconds, cancellation).ConfigureAwait(false);
            var election = new LeaseElection(new ConnectionRecipeClient(connection), ByteString.CopyFromUtf8(parse.GetValue(name) ?? ""));
            if (observe)
                return await ObserveAsync(context, election, output, cancellation).ConfigureAwait(false);

            await election.CampaignAsync(session.LeaseId, ByteString.CopyFromUtf8(value!), cancellation).ConfigureAwait(false);
            var key = await connection.CallAsync(
                (channel, options) => new KV.KVClient(channel).RangeAsync(new RangeRequest { Key = election.Key }, options).ResponseAsync, cancellation).ConfigureAwait(false);
            output.Range(key);
            await context.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            if (!await LockCommand.HeldUntilSignalAsync(session, cancellation).ConfigureAwait(false))
                throw new CommandFailedException("Error: elect: session expired");
            await election.ResignAsync(CancellationToken.None).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task<int> ObserveAsync(CliContext context, LeaseElection election, OutputWriter output, CancellationToken cancellation)
    {
        try
        {
            await foreach (var (header, leader) in election.ObserveAsync(cancellation).ConfigureAwait(false))
            {
                output.Range(new RangeResponse { Header = header, Kvs = { leader } });
                await context.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
            if (!cancellation.IsCancellationRequested)
                throw new CommandFailedException("Error: elect: observer lost");
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
        }
        catch (Grpc.Core.RpcException) when (cancellation.IsCancellationRequested)
        {
        }
        return ExitCodes.Ok;
    }
}
