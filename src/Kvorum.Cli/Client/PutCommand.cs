using System.CommandLine;
using Google.Protobuf;
using Kvorum.Cli.Output;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Client;

/// <summary>
/// <c>kvorum put KEY [VALUE] [--prev-kv] [--ignore-value] [--ignore-lease] [--lease ID]</c>: writes one key (the value is
/// read from stdin when omitted, unless --ignore-value keeps the current one), with etcdctl's flags.
/// </summary>
public static class PutCommand
{
    /// <summary>Creates the command.</summary>
    /// <param name="context">Streams and environment.</param>
    /// <param name="global">The shared client flags.</param>
    /// <returns>The <c>put</c> command.</returns>
    public static Command Create(CliContext context, GlobalOptions global)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(global);
        var key = new Argument<string>("key") { Description = "The key." };
        var value = new Argument<string?>("value") { Description = "The value; read from stdin when omitted.", Arity = ArgumentArity.ZeroOrOne };
        var prevKv = new Option<bool>("--prev-kv") { Description = "Print the previous key-value pair." };
        var ignoreValue = new Option<bool>("--ignore-value") { Description = "Keep the key's current value (the key must exist); give no VALUE." };
        var ignoreLease = new Option<bool>("--ignore-lease") { Description = "Keep the key's current lease (the key must exist)." };
        var lease = new Option<string>("--lease") { Description = "Attach the lease with this ID (hexadecimal).", DefaultValueFactory = _ => "0" };
        var command = new Command("put", "Put a key.") { key, value, prevKv, ignoreValue, ignoreLease, lease };
        command.SetAction(async (parse, cancellation) =>
        {
            ClientSettings settings = global.Resolve(parse, context);
            bool keepValue = parse.GetValue(ignoreValue);
            if (keepValue && parse.GetValue(value) is not null)
                throw new UsageException("put needs only KEY when --ignore-value is set");
            if (!long.TryParse(parse.GetValue(lease), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out long leaseId))
                throw new UsageException($"bad lease ID {parse.GetValue(lease)}: expected an ID in hexadecimal");
            string text = keepValue ? "" : parse.GetValue(value) ?? await context.In.ReadToEndAsync(cancellation).ConfigureAwait(false);
            var request = new PutRequest
            {
                Key = ByteString.CopyFromUtf8(parse.GetValue(key) ?? ""),
                Value = ByteString.CopyFromUtf8(text),
                PrevKv = parse.GetValue(prevKv),
                IgnoreValue = keepValue,
                IgnoreLease = parse.GetValue(ignoreLease),
                Lease = leaseId,
            };
            using var connection = new EtcdConnection(settings);
            PutResponse response = await connection.CallAsync(
                (channel, options) => new KV.KVClient(channel).PutAsync(request, options).ResponseAsync, cancellation).ConfigureAwait(false);
            new OutputWriter(context.Out, settings.Output).Put(response);
            return ExitCodes.Ok;
        });
        return command;
    }
}
