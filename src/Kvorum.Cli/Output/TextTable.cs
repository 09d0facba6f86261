using System.Text;

namespace Kvorum.Cli.Output;

/// <summary>A boxed text table in etcdctl's style: centred headers, cells aligned right, a rule above and below.</summary>
internal sealed class TextTable
{
    private readonly string[] _headers;
    private readonly List<string[]> _rows = [];

    /// <summary>Creates a table with these column headers.</summary>
    /// <param name="headers">The headers, shown upper case.</param>
    public TextTable(params string[] headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        _headers = [.. headers.Select(h => h.ToUpperInvariant())];
    }

    /// <summary>Adds a row; it must have one cell per header.</summary>
    public void AddRow(params string[] cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if (cells.Length != _headers.Length)
            throw new ArgumentException($"expected {_headers.Length} cells, got {cells.Length}", nameof(cells));
        _rows.Add(cells);
    }

    /// <summary>Renders the table, one line per row, each ending in a newline.</summary>
    public override string ToString()
    {
        int[] widths = [.. _headers.Select((h, i) => _rows.Select(r => r[i].Length).Append(h.Length).Max())];
        var rule = "+" + string.Join("+", widths.Select(w => new string('-', w + 2))) + "+";
        var text = new StringBuilder();
        text.Append(rule).Append('\n');
        text.Append("| ").Append(string.Join(" | ", _headers.Select((h, i) => Centre(h, widths[i])))).Append(" |\n");
        text.Append(rule).Append('\n');
        foreach (var row in _rows)
            text.Append("| ").Append(string.Join(" | ", row.Select((c, i) => c.PadLeft(widths[i])))).Append(" |\n");
        text.Append(rule).Append('\n');
        return text.ToString();
    }

    private static string Centre(string text, int width)
    {
        var left = (width - text.Length) / 2;
        return new string(' ', left) + text + new string(' ', width - text.Length - left);
    }
}
