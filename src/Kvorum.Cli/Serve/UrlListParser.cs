using System.Text.RegularExpressions;

namespace Kvorum.Cli.Serve;

/// <summary>Parses the comma-separated <c>http://host:port</c> (or <c>https://</c>, for TLS) lists of etcd's URL flags.</summary>
internal static partial class UrlListParser
{
    /// <summary>Parses one URL, or throws a <see cref="UsageException"/> naming <paramref name="flag"/>.</summary>
    /// <param name="flag">The flag the URL came from.</param>
    /// <param name="text">The URL text.</param>
    public static Uri ParseOne(string flag, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (!Uri.TryCreate(trimmed, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || uri.Host.Length == 0
            || !ExplicitPort().IsMatch(trimmed)
            || uri.AbsolutePath != "/"
            || uri.Query.Length > 0
            || uri.UserInfo.Length > 0)
            throw new UsageException($"{flag}: \"{trimmed}\" is not a URL of the form http://host:port");

        return uri;
    }

    /// <summary>Parses a comma-separated list of URLs.</summary>
    /// <param name="flag">The flag the list came from.</param>
    /// <param name="text">The list.</param>
    /// <param name="allowEmpty">Whether an empty list is valid (metrics URLs) or an error.</param>
    /// <returns>The URLs, in order.</returns>
    public static IReadOnlyList<Uri> Parse(string flag, string text, bool allowEmpty = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0 && !allowEmpty)
            throw new UsageException($"{flag} must list at least one URL");

        return [.. parts.Select(part => ParseOne(flag, part))];
    }

    /// <summary>True when the URL listens on every interface (0.0.0.0 or [::]) and so cannot be advertised.</summary>
    /// <param name="uri">A listen URL.</param>
    /// <returns>Whether the host is unspecified.</returns>
    public static bool IsUnspecifiedHost(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return uri.Host is "0.0.0.0" or "[::]" or "::";
    }

    [GeneratedRegex(@":\d+/?$")]
    private static partial Regex ExplicitPort();
}
