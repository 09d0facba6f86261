namespace Kvorum.Cli.Client;

/// <summary>Parses <c>--endpoints</c>: <c>host:port</c>, <c>http://host:port</c> or <c>https://host:port</c>, comma-separated.</summary>
internal static class EndpointParser
{
    /// <summary>Parses the list.</summary>
    /// <param name="text">The flag value.</param>
    /// <param name="secure">Whether an endpoint without a scheme is https (TLS flags were given) rather than http.</param>
    /// <returns>The endpoints as http(s) URLs.</returns>
    /// <exception cref="UsageException">An endpoint is malformed.</exception>
    public static IReadOnlyList<Uri> Parse(string text, bool secure = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
            throw new UsageException("--endpoints must list at least one host:port");

        return [.. parts.Select(part => ParseOne(part, secure))];
    }

    // What the user wrote for each endpoint that Parse returned, as etcdctl shows it (with or without a scheme).
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Uri, string> Given = [];

    /// <summary>The endpoint as etcdctl shows it: as it was given to <c>--endpoints</c>, or else <c>host:port</c>.</summary>
    /// <param name="endpoint">An endpoint URL.</param>
    public static string Display(Uri endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return Given.TryGetValue(endpoint, out var given) ? given : $"{endpoint.Host}:{endpoint.Port}";
    }

    private static Uri ParseOne(string part, bool secure)
    {
        var text = part.Contains("://", StringComparison.Ordinal) ? part : (secure ? "https://" : "http://") + part;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.Host.Length == 0 || uri.IsDefaultPort || uri.AbsolutePath != "/")
            throw new UsageException($"--endpoints: \"{part}\" is not host:port");

        Given.AddOrUpdate(uri, part);
        return uri;
    }
}
