using System.Globalization;

namespace Kvorum.Lab.Faults;

/// <summary>Parses the node lists of the fault commands: <c>1,2 / 3,4,5</c>, <c>1,2/3</c>, <c>2</c>.</summary>
internal static class FaultParser
{
    /// <summary>Parses partition groups from the words after <c>partition</c>.</summary>
    /// <param name="words">For example <c>["1,2", "/", "3,4,5"]</c> or <c>["1,2/3,4,5"]</c>.</param>
    /// <exception cref="LabException">Not a list of groups of node numbers.</exception>
    public static int[][] Groups(IEnumerable<string> words)
    {
        ArgumentNullException.ThrowIfNull(words);
        var text = string.Join(' ', words);
        var groups = text.Split('/', StringSplitOptions.TrimEntries);
        if (groups.Length < 2)
            throw new LabException($"partition needs groups separated by '/', like 1,2 / 3,4,5; got '{text}'");
        return [.. groups.Select(g => Nodes(g, text))];
    }

    /// <summary>Parses a comma-separated list of node numbers.</summary>
    /// <param name="text">For example <c>1,2</c>.</param>
    /// <param name="context">The whole argument, for the error message.</param>
    /// <exception cref="LabException">Not a list of positive integers.</exception>
    public static int[] Nodes(string text, string? context = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries);
        var nodes = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out nodes[i]) || nodes[i] < 1)
                throw new LabException($"'{parts[i]}' is not a node number (in '{context ?? text}')");
        }

        return parts.Length > 0 ? nodes : throw new LabException($"an empty group of nodes in '{context ?? text}'");
    }
}
