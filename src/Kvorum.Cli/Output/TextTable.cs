using System.Text;

namespace Kvorum.Cli.Output;

/// <summary>A boxed text table in etcdctl's style: centred headers, cells aligned right, a rule above and below.</summary>
public sealed class TextTable
{
    private readonly string[] headers;
    private readonly List<string[]> rows = [];

    /// <summary>Creates a table with these column headers.</summary>
    /// <param name="headers">The headers, shown upper case.</param>
    public TextTable(params string[] headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        this.headers = [.. headers.Select(h => h.ToUpperInvariant())];
    }

    /// <summary>Adds a row; it must have one cell per header.</summary>
    /// <param name="cells">The cells.</param>
    public void AddRow(params string[] cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if (cells.Length != headers.Length)
            throw new ArgumentException($"expected {headers.Length} cells, got {cells.Length}", nameof(cells));
        rows.Add(cells);
    }

    /// <summary>Renders the table, one line per row, each ending in a newline.</summary>
    /// <returns>The text.</returns>
    public override string ToString()
    {
        int[] widths = [.. headers.Select((h, i) => rows.Select(r => r[i].Length).Append(h.Length).Max())];
        string rule = "+" + string.Join("+", widths.Select(w => new string('-', w + 2))) + "+";
        var text = new StringBuilder();
        text.Append(rule).Append('\n');
        text.Append("| ").Append(string.Join(" | ", headers.Select((h, i) => Centre(h, widths[i])))).Append(" |\n");
        text.Append(rule).Append('\n');
        foreach (string[] row in rows)
            text.Append("| ").Append(string.Join(" | ", row.Select((c, i) => c.PadLeft(widths[i])))).Append(" |\n");
        text.Append(rule).Append('\n');
        return text.ToString();
    }

    private static string Centre(string text, int width)
    {
        int left = (width - text.Length) / 2;
        return new string(' ', left) + text + new string(' ', width - text.Length - left);
    }
}
