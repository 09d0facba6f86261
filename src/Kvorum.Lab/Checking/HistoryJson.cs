using System.Text.Json;

namespace Kvorum.Lab.Checking;

/// <summary>
/// Reads and writes histories as JSON lines: one <see cref="Operation"/> per line, for example
/// <c>{"id":7,"process":2,"input":{"kind":"cas","key":"k1","value":"b","expected":"a"},"invokedAt":100,"completedAt":180,"outcome":"ok","output":{"succeeded":true}}</c>.
/// Blank lines are skipped.
/// </summary>
internal static class HistoryJson
{
    /// <summary>Formats one operation as a single line of JSON (no newline).</summary>
    public static string Serialize(Operation operation) =>
        JsonSerializer.Serialize(operation, HistoryJsonContext.Default.Operation);

    /// <summary>Parses one line written by <see cref="Serialize"/>.</summary>
    /// <exception cref="FormatException">The line is not a valid operation.</exception>
    public static Operation Deserialize(string line)
    {
        try
        {
            return JsonSerializer.Deserialize(line, HistoryJsonContext.Default.Operation)
                ?? throw new FormatException("null is not an operation");
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new FormatException(e.Message, e);
        }
    }

    /// <summary>Writes <paramref name="history"/>, one operation per line.</summary>
    public static void Write(History history, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(writer);
        foreach (var op in history)
        {
            writer.Write(Serialize(op));
            writer.Write('\n');
        }
    }

    /// <summary>Reads a history written by <see cref="Write"/>.</summary>
    /// <exception cref="FormatException">A line is malformed; the message names its line number.</exception>
    public static History Read(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var ops = new List<Operation>();
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
                continue;
            try
            {
                ops.Add(Deserialize(line));
            }
            catch (FormatException e)
            {
                throw new FormatException($"line {lineNumber}: {e.Message}", e);
            }
        }
        try
        {
            return new History(ops);
        }
        catch (ArgumentException e)
        {
            throw new FormatException(e.Message, e);
        }
    }

    /// <summary>Writes <paramref name="history"/> to the file at <paramref name="path"/>, replacing it.</summary>
    public static void WriteFile(History history, string path)
    {
        using var writer = new StreamWriter(path);
        Write(history, writer);
    }

    /// <summary>Reads the history in the file at <paramref name="path"/>.</summary>
    /// <exception cref="FormatException">A line is malformed.</exception>
    public static History ReadFile(string path)
    {
        using var reader = new StreamReader(path);
        return Read(reader);
    }
}
