using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Kvorum.Cli.View;

/// <summary>
/// Lets a control request through only from the view's own page: the Host is the address the view listens on (so
/// a rebound DNS name cannot make another site same-origin), the Origin (when the browser sends one) is that host,
/// and the request carries the token the page got in its event stream's hello, which no other origin can read. A
/// custom header also means a cross-origin page cannot send it without a preflight, which this server never grants.
/// </summary>
internal sealed class ControlGuard(IPEndPoint listen)
{
    /// <summary>The header that carries the token.</summary>
    public const string TokenHeader = "X-Kvorum-Token";

    private readonly byte[] _token = RandomNumberGenerator.GetBytes(24);

    /// <summary>The token the page sends back with each control request.</summary>
    public string Token => Convert.ToHexStringLower(_token);

    /// <summary>The port the view listens on, once known (port 0 picks one when listening).</summary>
    public int Port { get; set; } = listen.Port;

    /// <summary>Why <paramref name="request"/> is refused, or null when it comes from the view's own page.</summary>
    public string? Refusal(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var host = request.Host.Value ?? "";
        string[] allowed = [$"{Authority(listen.Address)}:{Port}", $"localhost:{Port}"];
        var anyAddress = listen.Address.Equals(IPAddress.Any) || listen.Address.Equals(IPAddress.IPv6Any);
        var named = allowed.Contains(host, StringComparer.OrdinalIgnoreCase)
            || (anyAddress && IPEndPoint.TryParse(host, out var literal) && literal.Port == Port && host.Contains(':', StringComparison.Ordinal));
        if (!named)
            return $"a control request must be addressed to {allowed[0]}";
        if (request.Headers.Origin is { Count: > 0 } origin && !string.Equals(origin.ToString(), $"{request.Scheme}://{host}", StringComparison.OrdinalIgnoreCase))
            return "a control request must come from the view's own page";
        if (request.Headers["Sec-Fetch-Site"] is { Count: > 0 } site && site.ToString() != "same-origin")
            return "a control request must come from the view's own page";
        var sent = Encoding.ASCII.GetBytes(request.Headers[TokenHeader].ToString());
        var expected = Encoding.ASCII.GetBytes(Token);
        return CryptographicOperations.FixedTimeEquals(sent, expected) ? null : "a control request needs the page's token";
    }

    private static string Authority(IPAddress address) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
}
