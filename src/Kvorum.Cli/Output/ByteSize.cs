using System.Globalization;

namespace Kvorum.Cli.Output;

/// <summary>Human-readable byte counts in SI units, as etcdctl shows database sizes (<c>25 kB</c>).</summary>
public static class ByteSize
{
    /// <summary>Formats <paramref name="bytes"/>.</summary>
    /// <param name="bytes">A byte count.</param>
    /// <returns>e.g. <c>0 B</c>, <c>512 B</c>, <c>25 kB</c>, <c>1.2 MB</c>.</returns>
    public static string Format(long bytes)
    {
        string[] units = ["B", "kB", "MB", "GB", "TB", "PB"];
        double value = bytes;
        int unit = 0;
        while (Math.Abs(value) >= 1000 && unit < units.Length - 1)
        {
            value /= 1000;
            unit++;
        }

        string number = unit == 0 || value >= 10
            ? Math.Round(value).ToString("0", CultureInfo.InvariantCulture)
            : value.ToString("0.#", CultureInfo.InvariantCulture);
        return $"{number} {units[unit]}";
    }
}
