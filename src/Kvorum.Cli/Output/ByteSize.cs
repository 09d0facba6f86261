using System.Globalization;

namespace Kvorum.Cli.Output;

/// <summary>
/// Human-readable byte counts in SI units, as etcdctl shows sizes: go-humanize's <c>Bytes</c>, whose figure is rounded
/// to a tenth and shown with one decimal below 10 (<c>4.0 MB</c>, <c>1.3 kB</c>) and none from 10 on (<c>25 kB</c>).
/// </summary>
internal static class ByteSize
{
    /// <summary>Formats <paramref name="bytes"/>.</summary>
    /// <param name="bytes">A byte count.</param>
    /// <returns>e.g. <c>0 B</c>, <c>512 B</c>, <c>1.3 kB</c>, <c>25 kB</c>, <c>4.0 MB</c>.</returns>
    public static string Format(long bytes)
    {
        if (bytes < 0)
            return "-" + Format(-bytes);
        if (bytes < 10)
            return bytes.ToString(CultureInfo.InvariantCulture) + " B";
        string[] units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
        var unit = (int)Math.Floor(Math.Log(bytes) / Math.Log(1000));
        var value = Math.Floor(bytes / Math.Pow(1000, unit) * 10 + 0.5) / 10;
        var number = value < 10
            ? value.ToString("0.0", CultureInfo.InvariantCulture)
            : Math.Round(value, MidpointRounding.ToEven).ToString("0", CultureInfo.InvariantCulture);
        return $"{number} {units[unit]}";
    }
}
