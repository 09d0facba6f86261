using System.CommandLine;
using Kvorum.Etcd.Serve;
using Kvorum.Server;

namespace Kvorum.Cli.Serve;

/// <summary><c>kvorum serve</c>: validates etcd-style flags into <see cref="ServerOptions"/> and runs one member.</summary>
internal static class ServeCommand
{
    /// <summary>Creates the command.</summary>
    /// <param name="context">Streams, environment and the server entry point.</param>
    /// <returns>The <c>serve</c> command.</returns>
    public static Command Create(CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var command = new Command("serve", "Run one Kvorum member. Every flag may also be set as KVORUM_<FLAG> (e.g. KVORUM_DATA_DIR); the flag wins.");
        var options = new Dictionary<string, Option<string>>(StringComparer.Ordinal);
        foreach ((var flag, var description) in ServeFlags.All)
        {
            var option = new Option<string>(flag) { Description = $"{description} Env: {ServeFlags.EnvironmentVariable(flag)}." };
            if (ServeFlags.Booleans.Contains(flag))
                option.Arity = ArgumentArity.ZeroOrOne;
            options[flag] = option;
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellation) =>
        {
            string? Flag(string name)
            {
                var result = parse.GetResult(options[name]);
                if (result is null || result.Implicit)
                    return null;
                // A bare boolean flag (--pre-vote, --client-cert-auth) means true.
                return result.Tokens.Count == 0 ? "true" : result.Tokens[^1].Value;
            }

            var server = ServeOptionsBinder.Bind(Flag, context.GetEnvironmentVariable);
            return await context.RunServer(server, cancellation).ConfigureAwait(false);
        });
        return command;
    }
}
