using System.Globalization;

namespace Kvorum.Cli.Client;

/// <summary>Member ids on the command line are hexadecimal, as etcdctl prints them.</summary>
internal static class MemberIdParser
{
    /// <summary>Parses a hex member id (an optional <c>0x</c> prefix is allowed).</summary>
    /// <param name="text">The id text.</param>
    /// <exception cref="UsageException">Not a non-zero hex number.</exception>
    public static ulong Parse(string? text)
    {
        var trimmed = (text ?? "").Trim();
        if (trimmed.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            trimmed = trimmed[2..];
        return ulong.TryParse(trimmed, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var id) && id != 0
            ? id
            : throw new UsageException($"member ID must be a hexadecimal number, got \"{text}\"");
    }
}
