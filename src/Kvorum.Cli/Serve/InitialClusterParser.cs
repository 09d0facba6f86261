using Kvorum.Etcd.Serve;

namespace Kvorum.Cli.Serve;

/// <summary>
/// Parses etcd's <c>--initial-cluster</c>: <c>name=url,name=url</c>. A name may appear more than once to give a
/// member several peer URLs; the order of first appearance is kept.
/// </summary>
internal static class InitialClusterParser
{
    /// <summary>Parses <paramref name="text"/> into name → peer URLs.</summary>
    /// <param name="text">The flag value.</param>
    /// <returns>The members and their URLs.</returns>
    /// <exception cref="UsageException">An entry is not <c>name=http://host:port</c>, or a URL is used twice.</exception>
    public static IReadOnlyDictionary<string, IReadOnlyList<Uri>> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        const string Flag = ServeFlags.InitialCluster;
        var members = new Dictionary<string, List<Uri>>(StringComparer.Ordinal);
        var seen = new HashSet<Uri>();
        var entries = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (entries.Length == 0)
            throw new UsageException($"{Flag} must list at least one name=url member");

        foreach (var entry in entries)
        {
            var equals = entry.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
                throw new UsageException($"{Flag}: \"{entry}\" is not name=url");

            var name = entry[..equals].Trim();
            var url = UrlListParser.ParseOne(Flag, entry[(equals + 1)..]);
            if (!seen.Add(url))
                throw new UsageException($"{Flag}: peer URL {url.GetLeftPart(UriPartial.Authority)} is listed twice");

            if (!members.TryGetValue(name, out var urls))
                members[name] = urls = [];
            urls.Add(url);
        }

        return members.ToDictionary(pair => pair.Key, pair => (IReadOnlyList<Uri>)pair.Value, StringComparer.Ordinal);
    }
}
