using System.CommandLine;
using Google.Protobuf;
using Kvorum.Cli.Output;
using Kvorum.Server.Etcd;

namespace Kvorum.Cli.Client;

/// <summary><c>kvorum put KEY [VALUE] [--prev-kv]</c>: writes one key (the value is read from stdin when omitted).</summary>
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
        var command = new Command("put", "Put a key.") { key, value, prevKv };
        command.SetAction(async (parse, cancellation) =>
        {
            ClientSettings settings = global.Resolve(parse, context);
            string text = parse.GetValue(value) ?? await context.In.ReadToEndAsync(cancellation).ConfigureAwait(false);
            var request = new PutRequest
            {
                Key = ByteString.CopyFromUtf8(parse.GetValue(key) ?? ""),
                Value = ByteString.CopyFromUtf8(text),
                PrevKv = parse.GetValue(prevKv),
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
