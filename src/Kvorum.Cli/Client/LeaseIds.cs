using System.Globalization;

namespace Kvorum.Cli.Client;

/// <summary>
/// Lease ids as etcdctl reads and prints them: parsed as a signed 64-bit hexadecimal number without a <c>0x</c>
/// prefix (Go's <c>strconv.ParseInt(s, 16, 64)</c>), printed as 16 zero-padded lower-case hex digits (Go's <c>%016x</c>).
/// </summary>
internal static class LeaseIds
{
    /// <summary>Parses a lease id given in hexadecimal.</summary>
    /// <param name="text">The id, e.g. <c>2040a249b23b5b0f</c>, optionally signed.</param>
    /// <returns>The id.</returns>
    /// <exception cref="UsageException">The text is not a hexadecimal 64-bit number.</exception>
    public static long Parse(string? text)
    {
        var value = text ?? "";
        var negative = value.StartsWith('-');
        var digits = negative || value.StartsWith('+') ? value[1..] : value;
        if (digits.Length == 0 || digits.Length > 16 || !ulong.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var magnitude)
            || magnitude > (negative ? 1UL << 63 : long.MaxValue))
        {
            throw new UsageException($"bad lease ID arg {value}: expecting ID in Hex");
        }
        return negative ? (long)(0 - magnitude) : (long)magnitude;
    }

    /// <summary>The id as etcdctl prints it: <c>%016x</c> of a signed number, so a negative id keeps its sign inside the width.</summary>
    /// <param name="id">The id.</param>
    /// <returns>The text, e.g. <c>000000001234abcd</c>.</returns>
    public static string Format(long id) => id < 0
        ? "-" + ((ulong)(0 - id)).ToString("x", CultureInfo.InvariantCulture).PadLeft(15, '0')
        : id.ToString("x16", CultureInfo.InvariantCulture);
}
