using System.CommandLine;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Kvorum.Cli.Output;
using Google.Protobuf;
using Kvorum.Etcd.Api;
using Kvorum.Etcd.Recipes;

namespace Kvorum.Cli.Client;

/// <summary>
/// <c>kvorum lock NAME [--ttl N] [-- COMMAND ARGS…]</c>, as etcdctl does it (<see cref="LeaseLock"/> on a <see cref="LeaseSession"/>, with a session
/// lease of <c>--ttl</c> seconds, etcdctl's default 10). Without a command it prints the lock key and its value
/// and holds the lock until SIGINT or SIGTERM, which release it (exit 0). With one, it runs the command holding the
/// lock, with <c>ETCD_LOCK_KEY</c> and <c>ETCD_LOCK_REV</c> in its environment, then releases the lock; a command
/// that fails ends in <c>Error: exit status N</c>.
/// </summary>
internal static class LockCommand
{
    /// <summary>Creates the command.</summary>
    /// <param name="context">Streams and environment.</param>
    /// <param name="global">The shared client flags.</param>
    /// <returns>The <c>lock</c> command.</returns>
    public static Command Create(CliContext context, GlobalOptions global)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(global);
        var name = new Argument<string>("lockname") { Description = "The lock's name (its keys are NAME/<lease>)." };
        var exec = new Argument<string[]>("command") { Description = "A command to run holding the lock (after --).", Arity = ArgumentArity.ZeroOrMore };
        var ttl = new Option<long>("--ttl") { Description = "Time to live of the session's lease, in seconds.", DefaultValueFactory = _ => 10 };
        var command = new Command("lock", "Acquire a named lock; hold it until interrupted, or while a command runs.") { name, exec, ttl };
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            var lockName = parse.GetValue(name) ?? "";
            if (lockName.Length == 0)
                throw new UsageException("lock takes a lock name argument and an optional command to execute");
            var args = parse.GetValue(exec) ?? [];
            using var connection = new EtcdConnection(settings);
            await using var session = await LeaseSession.StartAsync(connection, parse.GetValue(ttl), cancellation).ConfigureAwait(false);
            var held = new LeaseLock(new ConnectionRecipeClient(connection), ByteString.CopyFromUtf8(lockName), session.LeaseId);
            await held.LockAsync(cancellation).ConfigureAwait(false);
            if (args.Length > 0)
                return await RunHoldingAsync(context, held, args).ConfigureAwait(false);

            var key = await connection.CallAsync(
                (channel, options) => new KV.KVClient(channel).RangeAsync(new RangeRequest { Key = held.Key }, options).ResponseAsync, cancellation).ConfigureAwait(false);
            if (key.Kvs.Count == 0)
                throw new CommandFailedException("Error: lock lost on init");
            new OutputWriter(context.Out, settings.Output).Range(key);
            await context.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            if (await HeldUntilSignalAsync(session, cancellation).ConfigureAwait(false))
            {
                await held.UnlockAsync(CancellationToken.None).ConfigureAwait(false);
                return ExitCodes.Ok;
            }
            throw new CommandFailedException("Error: session expired");
        });
        return command;
    }

    /// <summary>Waits for a signal (true) or the end of the session (false).</summary>
    internal static async Task<bool> HeldUntilSignalAsync(LeaseSession session, CancellationToken signal)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(signal, session.Expired);
        try
        {
            await Task.Delay(Timeout.Infinite, either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        return signal.IsCancellationRequested;
    }

    /// <summary>Runs the command with the lock held, passing its output through, then releases the lock.</summary>
    private static async Task<int> RunHoldingAsync(CliContext context, LeaseLock held, string[] args)
    {
        var start = new ProcessStartInfo(args[0])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args[1..])
            start.ArgumentList.Add(arg);
        start.Environment["ETCD_LOCK_KEY"] = held.Key.ToStringUtf8();
        start.Environment["ETCD_LOCK_REV"] = held.Header.Revision.ToString(CultureInfo.InvariantCulture);
        int exitCode;
        try
        {
            using var process = Process.Start(start)!;
            var output = PipeAsync(process.StandardOutput, context.Out);
            var error = PipeAsync(process.StandardError, context.Error);
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            await Task.WhenAll(output, error).ConfigureAwait(false);
            exitCode = process.ExitCode;
        }
        catch (Win32Exception e)
        {
            await held.UnlockAsync(CancellationToken.None).ConfigureAwait(false);
            // Go's words for the two usual failures, which scripts may look for.
            var reason = e.NativeErrorCode switch { 2 => "no such file or directory", 13 => "permission denied", _ => e.Message };
            throw new CommandFailedException($"Error: fork/exec {args[0]}: {reason}", e);
        }
        await held.UnlockAsync(CancellationToken.None).ConfigureAwait(false);
        if (exitCode != 0)
            throw new CommandFailedException($"Error: exit status {exitCode.ToString(CultureInfo.InvariantCulture)}");
        return ExitCodes.Ok;
    }

    private static async Task PipeAsync(StreamReader from, TextWriter to)
    {
        var buffer = new char[4096];
        int read;
        while ((read = await from.ReadAsync(buffer, CancellationToken.None).ConfigureAwait(false)) > 0)
        {
            await to.WriteAsync(buffer.AsMemory(0, read), CancellationToken.None).ConfigureAwait(false);
            await to.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }
}
