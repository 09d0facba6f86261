using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Kvorum.Server.Etcd;

namespace Kvorum.Cli.Client;

/// <summary>
/// Reads etcdctl's txn text: compares, a blank line, success ops, a blank line, failure ops. A compare is
/// <c>TARGET("key") OP VALUE</c> with TARGET one of <c>val</c>/<c>value</c>, <c>ver</c>/<c>version</c>,
/// <c>create</c>, <c>mod</c>, <c>lease</c> and OP one of <c>=</c>, <c>!=</c>, <c>&gt;</c>, <c>&lt;</c>; an op is
/// <c>put KEY VALUE</c>, <c>get KEY [RANGE_END] [--prefix]</c> or <c>del KEY [RANGE_END] [--prefix]</c>.
/// Arguments may be double-quoted with backslash escapes.
/// </summary>
public static partial class TxnParser
{
    /// <summary>Parses the whole text.</summary>
    /// <param name="text">What was read from stdin.</param>
    /// <returns>The request.</returns>
    /// <exception cref="UsageException">A line is malformed; the message names the line number.</exception>
    public static TxnRequest Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var request = new TxnRequest();
        string[] lines = text.Replace("\r", "", StringComparison.Ordinal).Split('\n');
        int section = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            int number = i + 1;
            if (line.Length == 0)
            {
                section++;
                continue;
            }

            switch (section)
            {
                case 0:
                    request.Compare.Add(ParseCompare(line, number));
                    break;
                case 1:
                    request.Success.Add(ParseOp(line, number));
                    break;
                case 2:
                    request.Failure.Add(ParseOp(line, number));
                    break;
                default:
                    throw new UsageException($"line {number}: unexpected text after the failure ops: {line}");
            }
        }

        return request;
    }

    /// <summary>Parses one compare line, e.g. <c>mod("k") &lt; "5"</c>.</summary>
    /// <param name="line">The line.</param>
    /// <param name="number">Its line number, for errors.</param>
    /// <returns>The compare.</returns>
    public static Compare ParseCompare(string line, int number = 1)
    {
        ArgumentNullException.ThrowIfNull(line);
        Match match = CompareLine().Match(line);
        if (!match.Success)
            throw new UsageException($"line {number}: bad compare \"{line}\" (expected e.g. val(\"k\") = \"v\")");

        var compare = new Compare
        {
            Key = ByteString.CopyFromUtf8(Unescape(match.Groups["key"].Value)),
            Result = match.Groups["op"].Value switch
            {
                "=" or "==" => Compare.Types.CompareResult.Equal,
                "!=" => Compare.Types.CompareResult.NotEqual,
                ">" => Compare.Types.CompareResult.Greater,
                _ => Compare.Types.CompareResult.Less,
            },
        };
        string value = match.Groups["value"].Value.Trim();
        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
            value = Unescape(value[1..^1]);

        switch (match.Groups["target"].Value.ToUpperInvariant())
        {
            case "VAL" or "VALUE":
                compare.Target = Compare.Types.CompareTarget.Value;
                compare.Value = ByteString.CopyFromUtf8(value);
                break;
            case "VER" or "VERSION":
                compare.Target = Compare.Types.CompareTarget.Version;
                compare.Version = Integer(value, line, number);
                break;
            case "CREATE":
                compare.Target = Compare.Types.CompareTarget.Create;
                compare.CreateRevision = Integer(value, line, number);
                break;
            case "MOD":
                compare.Target = Compare.Types.CompareTarget.Mod;
                compare.ModRevision = Integer(value, line, number);
                break;
            case "LEASE":
                compare.Target = Compare.Types.CompareTarget.Lease;
                compare.Lease = Integer(value, line, number);
                break;
            default:
                throw new UsageException($"line {number}: unknown compare target \"{match.Groups["target"].Value}\" (val, version, create, mod, lease)");
        }

        return compare;
    }

    /// <summary>Parses one op line: <c>put k v</c>, <c>get k</c>, <c>del k</c>.</summary>
    /// <param name="line">The line.</param>
    /// <param name="number">Its line number, for errors.</param>
    /// <returns>The op.</returns>
    public static RequestOp ParseOp(string line, int number = 1)
    {
        ArgumentNullException.ThrowIfNull(line);
        List<string> words = Split(line, number);
        bool prefix = words.Remove("--prefix");
        string verb = words[0].ToUpperInvariant();
        List<string> args = words[1..];
        switch (verb)
        {
            case "PUT" when args.Count == 2 && !prefix:
                return new RequestOp { RequestPut = new PutRequest { Key = Bytes(args[0]), Value = Bytes(args[1]) } };
            case "GET" when args.Count is 1 or 2:
                var range = new RangeRequest { Key = Bytes(args[0]) };
                range.RangeEnd = RangeEnd(args, prefix, line, number);
                return new RequestOp { RequestRange = range };
            case "DEL" or "DELETE" when args.Count is 1 or 2:
                var delete = new DeleteRangeRequest { Key = Bytes(args[0]) };
                delete.RangeEnd = RangeEnd(args, prefix, line, number);
                return new RequestOp { RequestDeleteRange = delete };
            default:
                throw new UsageException($"line {number}: bad op \"{line}\" (expected put KEY VALUE, get KEY or del KEY)");
        }
    }

    private static ByteString RangeEnd(List<string> args, bool prefix, string line, int number)
    {
        if (prefix && args.Count == 2)
            throw new UsageException($"line {number}: --prefix and a range end together in \"{line}\"");
        if (prefix)
            return KeyRanges.PrefixEnd(Bytes(args[0]));
        return args.Count == 2 ? Bytes(args[1]) : ByteString.Empty;
    }

    private static List<string> Split(string line, int number)
    {
        var words = new List<string>();
        int i = 0;
        while (i < line.Length)
        {
            if (char.IsWhiteSpace(line[i]))
            {
                i++;
                continue;
            }

            if (line[i] == '"')
            {
                int start = ++i;
                while (i < line.Length && line[i] != '"')
                    i += line[i] == '\\' ? 2 : 1;
                if (i >= line.Length)
                    throw new UsageException($"line {number}: unterminated quote in \"{line}\"");
                words.Add(Unescape(line[start..i]));
                i++;
            }
            else
            {
                int start = i;
                while (i < line.Length && !char.IsWhiteSpace(line[i]))
                    i++;
                words.Add(line[start..i]);
            }
        }

        return words;
    }

    private static string Unescape(string text)
    {
        if (!text.Contains('\\', StringComparison.Ordinal))
            return text;
        var result = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\' || i + 1 == text.Length)
            {
                result.Append(text[i]);
                continue;
            }

            char next = text[++i];
            result.Append(next switch { 'n' => '\n', 't' => '\t', 'r' => '\r', '0' => '\0', _ => next });
        }

        return result.ToString();
    }

    private static long Integer(string value, string line, int number) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long parsed)
            ? parsed
            : throw new UsageException($"line {number}: \"{value}\" is not a number in \"{line}\"");

    private static ByteString Bytes(string text) => ByteString.CopyFromUtf8(text);

    [GeneratedRegex("""^(?<target>[A-Za-z]+)\(\s*"(?<key>(?:[^"\\]|\\.)*)"\s*\)\s*(?<op>==|!=|=|>|<)\s*(?<value>.+)$""")]
    private static partial Regex CompareLine();
}
