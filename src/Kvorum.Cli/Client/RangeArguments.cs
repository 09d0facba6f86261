using System.CommandLine;
using Google.Protobuf;

namespace Kvorum.Cli.Client;

/// <summary>The <c>KEY [RANGE_END] [--prefix] [--from-key]</c> arguments shared by <c>get</c> and <c>del</c>.</summary>
internal sealed class RangeArguments
{
    /// <summary>The key, or the first key of the range.</summary>
    public Argument<string> Key { get; } = new("key") { Description = "The key, or the first key of the range." };

    /// <summary>The exclusive end of the range.</summary>
    public Argument<string?> RangeEnd { get; } = new("range_end") { Description = "End of the range, exclusive.", Arity = ArgumentArity.ZeroOrOne };

    /// <summary><c>--prefix</c>: every key starting with KEY.</summary>
    public Option<bool> Prefix { get; } = new("--prefix") { Description = "Every key with KEY as a prefix." };

    /// <summary><c>--from-key</c>: every key from KEY on.</summary>
    public Option<bool> FromKey { get; } = new("--from-key") { Description = "Every key greater than or equal to KEY." };

    /// <summary>Adds the arguments and options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Arguments.Add(Key);
        command.Arguments.Add(RangeEnd);
        command.Options.Add(Prefix);
        command.Options.Add(FromKey);
    }

    /// <summary>Resolves the key and range end.</summary>
    /// <param name="parse">The parse result.</param>
    /// <returns>The key and the range end (empty for a single key).</returns>
    /// <exception cref="UsageException">The flags contradict each other.</exception>
    public (ByteString Key, ByteString RangeEnd) Resolve(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var key = ByteString.CopyFromUtf8(parse.GetValue(Key) ?? "");
        var end = parse.GetValue(RangeEnd);
        var prefix = parse.GetValue(Prefix);
        var fromKey = parse.GetValue(FromKey);
        if (prefix && fromKey)
            throw new UsageException("--prefix and --from-key cannot be used together");
        if ((prefix || fromKey) && end is not null)
            throw new UsageException($"{(prefix ? "--prefix" : "--from-key")} and RANGE_END cannot be used together");
        if (prefix)
            return key.IsEmpty ? (KeyRanges.FromKey, KeyRanges.FromKey) : (key, KeyRanges.PrefixEnd(key)); // "" --prefix: every key, as etcd's client
        if (fromKey)
            return (key.IsEmpty ? KeyRanges.FromKey : key, KeyRanges.FromKey);
        return (key, end is null ? ByteString.Empty : ByteString.CopyFromUtf8(end));
    }
}
