using System.CommandLine;

namespace Kvorum.Cli.Lab;

/// <summary>
/// <c>--tls</c> of <c>kvorum lab up</c>, <c>kvorum lab check</c> and <c>kvorum lab scenario</c>: the members run with mutual TLS on their client
/// and peer ports, with a throwaway CA and certificates made in <c>&lt;lab&gt;/tls</c> (<c>Kvorum.Lab.Nodes.LabTls</c>).
/// </summary>
internal static class TlsOption
{
    /// <summary>A new instance of the option.</summary>
    public static Option<bool> Create() => new("--tls")
    {
        Description = "Mutual TLS on every member's client and peer ports, with a throwaway CA and certificates made in <dir>/tls.",
    };
}
