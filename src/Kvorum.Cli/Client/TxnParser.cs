using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Client;

/// <summary>
/// Reads etcdctl's txn text: compares, a blank line, success ops, a blank line, failure ops. A compare is
/// <c>TARGET("key") OP VALUE</c> with TARGET one of <c>val</c>/<c>value</c>, <c>ver</c>/<c>version</c>,
/// <c>create</c>, <c>mod</c>, <c>lease</c> and OP one of <c>=</c>, <c>!=</c>, <c>&gt;</c>, <c>&lt;</c>; an op is
/// <c>put</c>, <c>get</c> or <c>del</c> with the flags of those commands (<see cref="ParseOp"/>).
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

    /// <summary>
    /// Parses one op line as etcdctl's txn does, with the flags of its put, get and del commands:
    /// <c>put KEY [VALUE] [--prev-kv] [--ignore-value] [--ignore-lease] [--lease=ID]</c>,
    /// <c>get KEY [RANGE_END] [--prefix] [--from-key] [--limit=N] [--rev=N] [--keys-only] [--count-only]
    /// [--sort-by=TARGET] [--order=ORDER] [--consistency=l|s] [--print-value-only]</c>,
    /// <c>del KEY [RANGE_END] [--prefix] [--from-key] [--prev-kv]</c>. A flag's value may also follow it as the next word.
    /// </summary>
    /// <param name="line">The line.</param>
    /// <param name="number">Its line number, for errors.</param>
    /// <returns>The op.</returns>
    /// <exception cref="UsageException">An unknown verb or flag, a missing or extra argument, or a bad flag value.</exception>
    public static RequestOp ParseOp(string line, int number = 1)
    {
        ArgumentNullException.ThrowIfNull(line);
        List<string> words = Split(line, number);
        string verb = words.Count > 0 ? words[0].ToUpperInvariant() : "";
        var op = new OpWords(words.Count > 0 ? words[1..] : [], line, number);
        switch (verb)
        {
            case "PUT":
            {
                op.Read(["--prev-kv", "--ignore-value", "--ignore-lease"], ["--lease"]);
                bool ignoreValue = op.Has("--ignore-value");
                int count = ignoreValue ? 1 : 2;
                op.Expect(count, count, ignoreValue ? "put KEY --ignore-value" : "put KEY VALUE");
                string lease = op.Value("--lease") ?? "0";
                if (!long.TryParse(lease, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long leaseId))
                    throw new UsageException($"line {number}: bad lease ID {lease} in \"{line}\" (expected hexadecimal)");
                return new RequestOp
                {
                    RequestPut = new PutRequest
                    {
                        Key = Bytes(op.Args[0]),
                        Value = ignoreValue ? ByteString.Empty : Bytes(op.Args[1]),
                        PrevKv = op.Has("--prev-kv"),
                        IgnoreValue = ignoreValue,
                        IgnoreLease = op.Has("--ignore-lease"),
                        Lease = leaseId,
                    },
                };
            }
            case "GET":
            {
                op.Read(["--prefix", "--from-key", "--keys-only", "--count-only", "--print-value-only"], ["--limit", "--rev", "--sort-by", "--order", "--consistency"]);
                op.Expect(1, 2, "get KEY [RANGE_END]");
                var (key, end) = op.Range();
                var range = new RangeRequest
                {
                    Key = key,
                    RangeEnd = end,
                    Limit = op.Number("--limit"),
                    Revision = op.Number("--rev"),
                    KeysOnly = op.Has("--keys-only"),
                    CountOnly = op.Has("--count-only"),
                    Serializable = (op.Value("--consistency") ?? "l") switch
                    {
                        "l" => false,
                        "s" => true,
                        var other => throw new UsageException($"line {number}: unknown consistency {other} in \"{line}\" (l or s)"),
                    },
                };
                (range.SortTarget, range.SortOrder) = GetCommand.Sorting(op.Value("--sort-by"), op.Value("--order"));
                return new RequestOp { RequestRange = range };
            }
            case "DEL" or "DELETE":
            {
                op.Read(["--prefix", "--from-key", "--prev-kv"], []);
                op.Expect(1, 2, "del KEY [RANGE_END]");
                var (key, end) = op.Range();
                return new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = key, RangeEnd = end, PrevKv = op.Has("--prev-kv") } };
            }
            default:
                throw new UsageException($"line {number}: bad op \"{line}\" (expected put, get or del)");
        }
    }

    /// <summary>An op line's words after the verb: its arguments, and the flags given.</summary>
    private sealed class OpWords(List<string> words, string line, int number)
    {
        private readonly Dictionary<string, string?> _flags = [];

        public List<string> Args { get; } = [];

        /// <summary>Sorts the words into arguments and flags; a flag not in the two lists is an error.</summary>
        public void Read(string[] switches, string[] valued)
        {
            for (int i = 0; i < words.Count; i++)
            {
                string word = words[i];
                if (!word.StartsWith("--", StringComparison.Ordinal) || word.Length == 2)
                {
                    Args.Add(word);
                    continue;
                }
                int equals = word.IndexOf('=', StringComparison.Ordinal);
                string name = equals < 0 ? word : word[..equals];
                if (switches.Contains(name))
                {
                    if (equals >= 0)
                        throw new UsageException($"line {number}: {name} takes no value in \"{line}\"");
                    _flags[name] = null;
                }
                else if (valued.Contains(name))
                {
                    if (equals < 0 && i + 1 == words.Count)
                        throw new UsageException($"line {number}: {name} needs a value in \"{line}\"");
                    _flags[name] = equals >= 0 ? word[(equals + 1)..] : words[++i];
                }
                else
                {
                    throw new UsageException($"line {number}: unknown flag {name} in \"{line}\"");
                }
            }
        }

        public bool Has(string flag) => _flags.ContainsKey(flag);

        public string? Value(string flag) => _flags.GetValueOrDefault(flag);

        public long Number(string flag) =>
            Value(flag) is { } text ? Integer(text, line, number) : 0;

        public void Expect(int least, int most, string usage)
        {
            if (Args.Count < least || Args.Count > most)
                throw new UsageException($"line {number}: bad op \"{line}\" (expected {usage})");
        }

        /// <summary>The key and range end, from RANGE_END, --prefix or --from-key (at most one of them).</summary>
        public (ByteString Key, ByteString End) Range()
        {
            ByteString key = Bytes(Args[0]);
            bool prefix = Has("--prefix"), fromKey = Has("--from-key");
            if ((prefix ? 1 : 0) + (fromKey ? 1 : 0) + (Args.Count == 2 ? 1 : 0) > 1)
                throw new UsageException($"line {number}: at most one of RANGE_END, --prefix and --from-key in \"{line}\"");
            if (prefix)
                return (key, KeyRanges.PrefixEnd(key));
            if (fromKey)
                return (key.IsEmpty ? KeyRanges.FromKey : key, KeyRanges.FromKey);
            return (key, Args.Count == 2 ? Bytes(Args[1]) : ByteString.Empty);
        }
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
