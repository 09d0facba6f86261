using System.Net.Security;

namespace Kvorum.Server.Security;

/// <summary>
/// etcd's <c>--cipher-suites</c>: a comma-separated list of Go's names of TLS 1.2 cipher suites. Go names them as IANA
/// does, except the ChaCha20 suites, which drop the <c>_SHA256</c> ending; both spellings are taken here.
/// </summary>
/// <remarks>
/// As in Go, the list governs TLS 1.2 only: the TLS 1.3 suites stay offered whatever it says (Go does not let them be
/// configured). On Linux, .NET hands the list to OpenSSL, which leaves out the suites it no longer builds (RC4, and
/// 3DES in OpenSSL 3): naming one of those is accepted but it is never negotiated.
/// </remarks>
internal static class CipherSuiteNames
{
    private static readonly TlsCipherSuite[] Tls13 =
    [
        TlsCipherSuite.TLS_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
    ];

    /// <summary>Parses the flag's value.</summary>
    /// <param name="text">Comma-separated names.</param>
    /// <param name="suites">The suites named.</param>
    /// <param name="unknown">The first name that is not a cipher suite, or null.</param>
    /// <returns>Whether every name is known.</returns>
    public static bool TryParse(string text, out IReadOnlyList<TlsCipherSuite> suites, out string? unknown)
    {
        ArgumentNullException.ThrowIfNull(text);
        var list = new List<TlsCipherSuite>();
        unknown = null;
        foreach (var name in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!name.StartsWith("TLS_", StringComparison.Ordinal)
                || (!Enum.TryParse<TlsCipherSuite>(name, ignoreCase: false, out var suite)
                    && !Enum.TryParse(name + "_SHA256", ignoreCase: false, out suite)))
            {
                unknown = name;
                suites = [];
                return false;
            }
            if (!list.Contains(suite))
                list.Add(suite);
        }
        suites = list;
        return true;
    }

    /// <summary>The policy for a listener or a dialer: the suites given, then TLS 1.3's.</summary>
    /// <param name="suites">The TLS 1.2 suites of <c>--cipher-suites</c>.</param>
    /// <returns>The policy.</returns>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public static CipherSuitesPolicy Policy(IReadOnlyList<TlsCipherSuite> suites) =>
        new([.. suites, .. Tls13.Where(s => !suites.Contains(s))]);
}
