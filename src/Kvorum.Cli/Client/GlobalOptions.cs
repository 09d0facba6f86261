using System.CommandLine;
using Kvorum.Cli.Output;

namespace Kvorum.Cli.Client;

/// <summary>
/// The flags every client command shares, as etcdctl names them: <c>--endpoints</c>, <c>--write-out</c>,
/// <c>--dial-timeout</c>, <c>--command-timeout</c>. Each falls back to <c>KVORUM_&lt;FLAG&gt;</c>.
/// </summary>
internal sealed class GlobalOptions
{
    /// <summary>The default endpoint.</summary>
    public const string DefaultEndpoint = "127.0.0.1:2379";

    /// <summary><c>--endpoints</c>: comma-separated host:port or http://host:port.</summary>
    public Option<string> Endpoints { get; } = new("--endpoints")
    {
        Description = $"Comma-separated endpoints (default {DefaultEndpoint}; env KVORUM_ENDPOINTS).",
        Recursive = true,
    };

    /// <summary><c>--write-out</c> / <c>-w</c>: simple, json or table.</summary>
    public Option<string> WriteOut { get; } = new("--write-out", "-w")
    {
        Description = "Output format: simple, json or table (env KVORUM_WRITE_OUT).",
        Recursive = true,
    };

    /// <summary><c>--dial-timeout</c>: how long to wait for a connection.</summary>
    public Option<string> DialTimeout { get; } = new("--dial-timeout")
    {
        Description = "Timeout for connecting, e.g. 2s (default 2s; env KVORUM_DIAL_TIMEOUT).",
        Recursive = true,
    };

    /// <summary><c>--command-timeout</c>: the deadline of each request.</summary>
    public Option<string> CommandTimeout { get; } = new("--command-timeout")
    {
        Description = "Deadline of each request, e.g. 5s (default 5s; env KVORUM_COMMAND_TIMEOUT).",
        Recursive = true,
    };

    // Transport security (docs/security.md), as etcdctl's flags.

    /// <summary><c>--cacert</c>: the CA that signs the members' certificates.</summary>
    public Option<string> CaCert { get; } = new("--cacert")
    {
        Description = "Verify the members' certificates with this CA bundle (PEM) (env KVORUM_CACERT).",
        Recursive = true,
    };

    /// <summary><c>--cert</c>: the client certificate.</summary>
    public Option<string> Cert { get; } = new("--cert")
    {
        Description = "Identify this client with this certificate (PEM) (env KVORUM_CERT).",
        Recursive = true,
    };

    /// <summary><c>--key</c>: the client certificate's private key.</summary>
    public Option<string> Key { get; } = new("--key")
    {
        Description = "The private key (PEM) of --cert (env KVORUM_KEY).",
        Recursive = true,
    };

    /// <summary><c>--insecure-skip-tls-verify</c>: accept any server certificate.</summary>
    public Option<bool> InsecureSkipTlsVerify { get; } = new("--insecure-skip-tls-verify")
    {
        Description = "Accept any server certificate (encrypts, but does not check who answers).",
        Recursive = true,
    };

    /// <summary>
    /// etcdctl's <c>--cluster</c>: every member's client URLs instead of <c>--endpoints</c> (<see cref="ClusterEndpoints"/>).
    /// Not global: <c>endpoint</c> and <c>defrag</c> add it.
    /// </summary>
    public Option<bool> Cluster { get; } = new("--cluster")
    {
        Description = "Use every member's client URLs, from the member list, instead of --endpoints.",
        Recursive = true,
    };

    /// <summary><c>--user</c>: <c>name[:password]</c>, the user calls are made as (the password asked for when not given).</summary>
    public Option<string> User { get; } = new("--user")
    {
        Description = "username[:password] for authentication; the password is asked for when not given (env KVORUM_USER).",
        Recursive = true,
    };

    /// <summary><c>--password</c>: the password of <c>--user</c>, which then names the user alone.</summary>
    public Option<string> Password { get; } = new("--password")
    {
        Description = "Password for authentication; --user then holds the user name alone (env KVORUM_PASSWORD).",
        Recursive = true,
    };

    /// <summary>Adds the options to <paramref name="root"/>, recursively to every subcommand.</summary>
    /// <param name="root">The root command.</param>
    public void AddTo(Command root)
    {
        ArgumentNullException.ThrowIfNull(root);
        root.Options.Add(Endpoints);
        root.Options.Add(WriteOut);
        root.Options.Add(DialTimeout);
        root.Options.Add(CommandTimeout);
        root.Options.Add(CaCert);
        root.Options.Add(Cert);
        root.Options.Add(Key);
        root.Options.Add(InsecureSkipTlsVerify);
        root.Options.Add(User);
        root.Options.Add(Password);
    }

    /// <summary>Resolves the flags (or their environment variables, or defaults) into settings.</summary>
    /// <param name="parse">The parse result.</param>
    /// <param name="context">Supplies the environment.</param>
    /// <param name="defaultFormat">The command's default output format.</param>
    /// <returns>The validated settings.</returns>
    /// <exception cref="UsageException">A value is malformed.</exception>
    public ClientSettings Resolve(ParseResult parse, CliContext context, OutputFormat defaultFormat = OutputFormat.Simple)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(context);

        string? Raw(Option<string> option, string variable)
        {
            var value = parse.GetValue(option);
            if (value is not null)
                return value;
            var fromEnvironment = context.GetEnvironmentVariable(variable);
            return string.IsNullOrEmpty(fromEnvironment) ? null : fromEnvironment;
        }

        var tls = ClientTls.Create(Raw(CaCert, "KVORUM_CACERT"), Raw(Cert, "KVORUM_CERT"), Raw(Key, "KVORUM_KEY"), parse.GetValue(InsecureSkipTlsVerify));
        // As etcdctl: with TLS flags, an endpoint given without a scheme is dialed with TLS.
        var endpoints = EndpointParser.Parse(Raw(Endpoints, "KVORUM_ENDPOINTS") ?? DefaultEndpoint, secure: tls is not null);
        var format = Raw(WriteOut, "KVORUM_WRITE_OUT");
        var output = format is null ? defaultFormat : format.Trim().ToUpperInvariant() switch
        {
            "SIMPLE" => OutputFormat.Simple,
            "JSON" => OutputFormat.Json,
            "TABLE" => OutputFormat.Table,
            _ => throw new UsageException($"--write-out must be simple, json or table, got \"{format}\""),
        };
        var dial = Raw(DialTimeout, "KVORUM_DIAL_TIMEOUT");
        var command = Raw(CommandTimeout, "KVORUM_COMMAND_TIMEOUT");
        return new ClientSettings
        {
            Endpoints = endpoints,
            Output = output,
            DialTimeout = dial is null ? TimeSpan.FromSeconds(2) : DurationParser.ParseFlag("--dial-timeout", dial),
            CommandTimeout = command is null ? TimeSpan.FromSeconds(5) : DurationParser.ParseFlag("--command-timeout", command),
            Tls = tls,
            Credentials = UserFlag.Resolve(Raw(User, "KVORUM_USER"), Raw(Password, "KVORUM_PASSWORD"), context),
        };
    }
}
