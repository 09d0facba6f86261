using System.Reflection;

namespace Kvorum.Cli.View;

/// <summary>
/// The page's static files, embedded in the CLI (<c>View/Web/*</c>, resources named <c>view/NAME</c>): plain ES modules,
/// a style sheet and the HTML, served as they are, with nothing loaded from another origin.
/// </summary>
internal static class ViewAssets
{
    /// <summary>Every response's Content-Security-Policy: this origin only, no inline script or style, no framing.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly Dictionary<string, string> ContentTypes = new(StringComparer.Ordinal)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
    };

    /// <summary>The files' names, as the page asks for them.</summary>
    public static IReadOnlyList<string> Names { get; } =
        [.. typeof(ViewAssets).Assembly.GetManifestResourceNames().Where(n => n.StartsWith("view/", StringComparison.Ordinal)).Select(n => n["view/".Length..])];

    /// <summary>The bytes and content type of <paramref name="name"/>, or false when there is no such file.</summary>
    public static bool TryGet(string name, out byte[] content, out string contentType)
    {
        content = [];
        contentType = "";
        if (!ContentTypes.TryGetValue(Path.GetExtension(name), out var type))
            return false;
        using var stream = typeof(ViewAssets).Assembly.GetManifestResourceStream("view/" + name);
        if (stream is null)
            return false;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        content = copy.ToArray();
        contentType = type;
        return true;
    }
}
