using System.CommandLine;
using Google.Protobuf;
using Kvorum.Cli.Output;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Client;

/// <summary>
/// <c>kvorum put KEY [VALUE] [--prev-kv] [--ignore-value] [--ignore-lease] [--lease ID]</c>: writes one key (the value is
/// read from stdin when omitted, unless --ignore-value keeps the current one), with etcdctl's flags.
/// </summary>
internal static class PutCommand
{
    /// <summary>Creates the command.</summary>
    /// <param name="context">Streams and environment.</param>
    /// <param name="global">The shared client flags.</param>
    /// <returns>The <c>put</c> command.</returns>
    public static Command Create(CliContext context, GlobalOptions global)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(global);
        var syntax = new Syntax();
        var command = syntax.Command;
        command.SetAction(async (parse, cancellation) =>
        {
            var settings = global.Resolve(parse, context);
            var keepValue = parse.GetValue(syntax.IgnoreValue);
            if (keepValue && parse.GetValue(syntax.Value) is not null)
                throw new UsageException("put needs only KEY when --ignore-value is set");
            if (!long.TryParse(parse.GetValue(syntax.Lease), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var leaseId))
                throw new UsageException($"bad lease ID {parse.GetValue(syntax.Lease)}: expected an ID in hexadecimal");
            var text = keepValue ? "" : parse.GetValue(syntax.Value) ?? await context.In.ReadToEndAsync(cancellation).ConfigureAwait(false);
            var request = new PutRequest
            {
                Key = ByteString.CopyFromUtf8(parse.GetValue(syntax.Key) ?? ""),
                Value = ByteString.CopyFromUtf8(text),
                PrevKv = parse.GetValue(syntax.PrevKv),
                IgnoreValue = keepValue,
                IgnoreLease = parse.GetValue(syntax.IgnoreLease),
                Lease = leaseId,
            };
            using var connection = new EtcdConnection(settings);
            var response = await connection.CallAsync(
                (channel, options) => new KV.KVClient(channel).PutAsync(request, options).ResponseAsync, cancellation).ConfigureAwait(false);
            new OutputWriter(context.Out, settings.Output).Put(response);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>put's arguments and flags, declared once for the command and for the put ops of <c>txn</c> (<see cref="TxnParser"/>).</summary>
    internal sealed class Syntax
    {
        /// <summary>Creates the declarations and a <c>put</c> command holding them, with no action.</summary>
        public Syntax() => Command = new Command("put", "Put a key.") { Key, Value, PrevKv, IgnoreValue, IgnoreLease, Lease };

        /// <summary>The command the declarations belong to.</summary>
        public Command Command { get; }

        /// <summary>The key.</summary>
        public Argument<string> Key { get; } = new("key") { Description = "The key." };

        /// <summary>The value (read from stdin when omitted).</summary>
        public Argument<string?> Value { get; } = new("value") { Description = "The value; read from stdin when omitted.", Arity = ArgumentArity.ZeroOrOne };

        /// <summary><c>--prev-kv</c>.</summary>
        public Option<bool> PrevKv { get; } = new("--prev-kv") { Description = "Print the previous key-value pair." };

        /// <summary><c>--ignore-value</c>.</summary>
        public Option<bool> IgnoreValue { get; } = new("--ignore-value") { Description = "Keep the key's current value (the key must exist); give no VALUE." };

        /// <summary><c>--ignore-lease</c>.</summary>
        public Option<bool> IgnoreLease { get; } = new("--ignore-lease") { Description = "Keep the key's current lease (the key must exist)." };

        /// <summary><c>--lease</c>: a lease ID in hexadecimal, "0" for none.</summary>
        public Option<string> Lease { get; } = new("--lease") { Description = "Attach the lease with this ID (hexadecimal).", DefaultValueFactory = _ => "0" };
    }
}
