using Kvorum.Server;

namespace Kvorum.Cli.Tests;

/// <summary>Runs the CLI's entry point in process with captured streams, a fake environment and a fake server.</summary>
internal sealed class CliRun
{
    public Dictionary<string, string> Environment { get; } = [];

    public string Stdin { get; set; } = "";

    /// <summary>The options the last <c>serve</c> passed to the server, if any.</summary>
    public ServerOptions? Served { get; private set; }

    public int ServerExitCode { get; set; }

    public async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext
        {
            Out = output,
            Error = error,
            In = new StringReader(Stdin),
            GetEnvironmentVariable = name => Environment.GetValueOrDefault(name),
            RunServer = (options, _) =>
            {
                Served = options;
                return Task.FromResult(ServerExitCode);
            },
        };
        var code = await CliApp.RunAsync(args, context);
        return (code, output.ToString(), error.ToString());
    }

    public static Task<(int Code, string Out, string Err)> Run(params string[] args) => new CliRun().RunAsync(args);
}
