using System.CommandLine;
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
/// <c>put</c>, <c>get</c> or <c>del</c> with the arguments and flags of those commands, parsed by their own
/// declarations (<see cref="ParseOp"/>).
/// Arguments may be double-quoted with backslash escapes.
/// </summary>
internal static partial class TxnParser
{
    /// <summary>Parses the whole text.</summary>
    /// <param name="text">What was read from stdin.</param>
    /// <exception cref="UsageException">A line is malformed; the message names the line number.</exception>
    public static TxnRequest Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var request = new TxnRequest();
        var lines = text.Replace("\r", "", StringComparison.Ordinal).Split('\n');
        var section = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            var number = i + 1;
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
    public static Compare ParseCompare(string line, int number = 1)
    {
        ArgumentNullException.ThrowIfNull(line);
        var match = CompareLine().Match(line);
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
        var value = match.Groups["value"].Value.Trim();
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
    /// Parses one op line as etcdctl's txn does, with the arguments and flags of the put, get and del commands
    /// (<see cref="PutCommand.Syntax"/>, <see cref="GetCommand.Syntax"/>, <see cref="DelCommand.Syntax"/>):
    /// <c>put KEY VALUE</c> or <c>put KEY --ignore-value</c>, <c>get KEY [RANGE_END]</c>, <c>del KEY [RANGE_END]</c>
    /// (or <c>delete</c>), each with its command's flags, a flag's value after <c>=</c> or as the next word.
    /// </summary>
    /// <param name="line">The line.</param>
    /// <param name="number">Its line number, for errors.</param>
    /// <exception cref="UsageException">An unknown verb or flag, a missing or extra argument, or a bad flag value.</exception>
    public static RequestOp ParseOp(string line, int number = 1)
    {
        ArgumentNullException.ThrowIfNull(line);
        var words = Split(line, number);
        var verb = words.Count > 0 ? words[0].ToUpperInvariant() : "";
        var rest = words.Count > 0 ? words[1..] : [];
        switch (verb)
        {
            case "PUT":
                {
                    var put = new PutCommand.Syntax();
                    var op = OpLine.Read(put.Command, rest, line, number);
                    var ignoreValue = op.Has(put.IgnoreValue);
                    var count = ignoreValue ? 1 : 2;
                    op.Expect(count, count, ignoreValue ? "put KEY --ignore-value" : "put KEY VALUE");
                    var lease = op.Text(put.Lease);
                    if (!long.TryParse(lease, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var leaseId))
                        throw new UsageException($"line {number}: bad lease ID {lease} in \"{line}\" (expected hexadecimal)");
                    return new RequestOp
                    {
                        RequestPut = new PutRequest
                        {
                            Key = Bytes(op.Argument(put.Key)),
                            Value = ignoreValue ? ByteString.Empty : Bytes(op.Argument(put.Value)),
                            PrevKv = op.Has(put.PrevKv),
                            IgnoreValue = ignoreValue,
                            IgnoreLease = op.Has(put.IgnoreLease),
                            Lease = leaseId,
                        },
                    };
                }
            case "GET":
                {
                    var get = new GetCommand.Syntax();
                    var op = OpLine.Read(get.Command, rest, line, number);
                    op.Expect(1, 2, "get KEY [RANGE_END]");
                    var (key, end) = op.Range(get.Range);
                    var range = new RangeRequest
                    {
                        Key = key,
                        RangeEnd = end,
                        Limit = op.Value(get.Limit, NotANumber),
                        Revision = op.Value(get.Revision, NotANumber),
                        KeysOnly = op.Has(get.KeysOnly),
                        CountOnly = op.Has(get.CountOnly),
                        Serializable = op.Value(get.Consistency, value => $"unknown consistency {value} in \"{line}\" (l or s)") == "s",
                    };
                    (range.SortTarget, range.SortOrder) = GetCommand.Sorting(op.Text(get.SortBy), op.Text(get.Order));
                    return new RequestOp { RequestRange = range };
                }
            case "DEL" or "DELETE":
                {
                    var del = new DelCommand.Syntax();
                    var op = OpLine.Read(del.Command, rest, line, number);
                    op.Expect(1, 2, "del KEY [RANGE_END]");
                    var (key, end) = op.Range(del.Range);
                    return new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = key, RangeEnd = end, PrevKv = op.Has(del.PrevKv) } };
                }
            default:
                throw new UsageException($"line {number}: bad op \"{line}\" (expected put, get or del)");
        }

        string NotANumber(string value) => $"\"{value}\" is not a number in \"{line}\"";
    }

    /// <summary>
    /// An op line's words after the verb, parsed by the command the verb names. The words are sorted first, by the
    /// rules op lines have always had (which differ from the command line's in corners): a word <c>--NAME</c> or
    /// <c>--NAME=VALUE</c> is a flag, which must be one of the command's options; a flag that takes a value and has
    /// no <c>=</c> takes the next word, whatever it is; a switch takes none; a flag given twice keeps its last value;
    /// every other word (<c>--</c>, <c>-x</c>, <c>true</c>, <c>@file</c>) is an argument. The command then parses
    /// the flags, and the arguments after <c>--</c>, converting and checking the values as it does on the command
    /// line.
    /// </summary>
    private sealed class OpLine
    {
        private static readonly ParserConfiguration Literal = new() { ResponseFileTokenReplacer = null };

        private readonly ParseResult _parse;
        private readonly int _arguments;
        private readonly string _line;
        private readonly int _number;

        private OpLine(ParseResult parse, int arguments, string line, int number)
        {
            _parse = parse;
            _arguments = arguments;
            _line = line;
            _number = number;
        }

        /// <summary>Sorts <paramref name="words"/> into flags and arguments and parses them with <paramref name="command"/>.</summary>
        /// <exception cref="UsageException">A flag the command does not have, a value given to a switch, or a value missing.</exception>
        public static OpLine Read(Command command, List<string> words, string line, int number)
        {
            var flags = new Dictionary<Option, string?>();
            var arguments = new List<string>();
            for (var i = 0; i < words.Count; i++)
            {
                var word = words[i];
                if (!word.StartsWith("--", StringComparison.Ordinal) || word.Length == 2)
                {
                    arguments.Add(word);
                    continue;
                }
                var equals = word.IndexOf('=', StringComparison.Ordinal);
                var name = equals < 0 ? word : word[..equals];
                var option = command.Options.FirstOrDefault(o => o.Name == name || o.Aliases.Contains(name))
                    ?? throw new UsageException($"line {number}: unknown flag {name} in \"{line}\"");
                if (option.ValueType == typeof(bool))
                {
                    if (equals >= 0)
                        throw new UsageException($"line {number}: {name} takes no value in \"{line}\"");
                    flags[option] = null;
                }
                else
                {
                    if (equals < 0 && i + 1 == words.Count)
                        throw new UsageException($"line {number}: {name} needs a value in \"{line}\"");
                    flags[option] = equals >= 0 ? word[(equals + 1)..] : words[++i];
                }
            }

            var tokens = new List<string>();
            foreach (var (option, value) in flags)
            {
                // After "=" the parser takes any text as the value, even one that looks like a flag; an empty
                // value has to be a word of its own.
                if (value is null)
                    tokens.Add(option.Name);
                else if (value.Length == 0)
                    tokens.AddRange([option.Name, ""]);
                else
                    tokens.Add($"{option.Name}={value}");
            }
            tokens.Add("--");
            tokens.AddRange(arguments);
            return new OpLine(command.Parse(tokens, Literal), arguments.Count, line, number);
        }

        /// <summary>Whether the switch was given.</summary>
        public bool Has(Option<bool> option) => _parse.GetValue(option);

        /// <summary>
        /// The option's value, or its default when not given; a value the option refuses is an error whose message,
        /// after the line number, <paramref name="refused"/> makes from the value.
        /// </summary>
        public T Value<T>(Option<T> option, Func<string, string> refused)
        {
            if (_parse.GetResult(option) is { } result)
            {
                var given = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                // A number with spaces around it (quoted) is refused, as txn always refused it; the command-line
                // parser alone would read it.
                if (result.Errors.Any() || (typeof(T) != typeof(string) && given.Trim() != given))
                    throw new UsageException($"line {_number}: {refused(given)}");
            }
            return _parse.GetValue(option)!;
        }

        /// <summary>A text flag's value, or its default when not given.</summary>
        public string Text(Option<string> option) => _parse.GetValue(option) ?? "";

        /// <summary>A string argument's value, "" if not given (the caller has checked the count with <see cref="Expect"/>).</summary>
        public string Argument<T>(Argument<T> argument)
            where T : class? => _parse.GetValue(argument) as string ?? "";

        /// <summary>Throws unless between <paramref name="least"/> and <paramref name="most"/> arguments were given.</summary>
        public void Expect(int least, int most, string usage)
        {
            if (_arguments < least || _arguments > most)
                throw new UsageException($"line {_number}: bad op \"{_line}\" (expected {usage})");
        }

        /// <summary>The key and range end, from RANGE_END, --prefix or --from-key (at most one of them).</summary>
        public (ByteString Key, ByteString End) Range(RangeArguments range)
        {
            var key = Bytes(_parse.GetValue(range.Key) ?? "");
            var end = _parse.GetValue(range.RangeEnd);
            bool prefix = Has(range.Prefix), fromKey = Has(range.FromKey);
            if ((prefix ? 1 : 0) + (fromKey ? 1 : 0) + (end is not null ? 1 : 0) > 1)
                throw new UsageException($"line {_number}: at most one of RANGE_END, --prefix and --from-key in \"{_line}\"");
            if (prefix)
                return (key, KeyRanges.PrefixEnd(key));
            if (fromKey)
                return (key.IsEmpty ? KeyRanges.FromKey : key, KeyRanges.FromKey);
            return (key, end is not null ? Bytes(end) : ByteString.Empty);
        }
    }

    /// <summary>Splits a line into words at white space; a double-quoted word may hold spaces and backslash escapes.</summary>
    /// <exception cref="UsageException">A quote is not closed.</exception>
    internal static List<string> Split(string line, int number)
    {
        var words = new List<string>();
        var i = 0;
        while (i < line.Length)
        {
            if (char.IsWhiteSpace(line[i]))
            {
                i++;
                continue;
            }

            if (line[i] == '"')
            {
                var start = ++i;
                while (i < line.Length && line[i] != '"')
                    i += line[i] == '\\' ? 2 : 1;
                if (i >= line.Length)
                    throw new UsageException($"line {number}: unterminated quote in \"{line}\"");
                words.Add(Unescape(line[start..i]));
                i++;
            }
            else
            {
                var start = i;
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
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\' || i + 1 == text.Length)
            {
                result.Append(text[i]);
                continue;
            }

            var next = text[++i];
            result.Append(next switch { 'n' => '\n', 't' => '\t', 'r' => '\r', '0' => '\0', _ => next });
        }

        return result.ToString();
    }

    private static long Integer(string value, string line, int number) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : throw new UsageException($"line {number}: \"{value}\" is not a number in \"{line}\"");

    private static ByteString Bytes(string text) => ByteString.CopyFromUtf8(text);

    [GeneratedRegex("""^(?<target>[A-Za-z]+)\(\s*"(?<key>(?:[^"\\]|\\.)*)"\s*\)\s*(?<op>==|!=|=|>|<)\s*(?<value>.+)$""")]
    private static partial Regex CompareLine();
}
