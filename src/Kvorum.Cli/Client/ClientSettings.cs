using Kvorum.Cli.Output;

namespace Kvorum.Cli.Client;

/// <summary>Where and how a client command talks to the cluster.</summary>
internal sealed record ClientSettings
{
    /// <summary>The endpoints, tried in order.</summary>
    public required IReadOnlyList<Uri> Endpoints { get; init; }

    /// <summary>How results are printed.</summary>
    public OutputFormat Output { get; init; } = OutputFormat.Simple;

    /// <summary>How long to wait for a TCP connection.</summary>
    public TimeSpan DialTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The deadline of each request.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>TLS for https endpoints (<c>--cacert</c>, <c>--cert</c>, <c>--key</c>); null: the system's defaults.</summary>
    public ClientTls? Tls { get; init; }
    /// <summary>The user calls are made as (<c>--user</c>); null for none.</summary>
    public ClientCredentials? Credentials { get; init; }
}
