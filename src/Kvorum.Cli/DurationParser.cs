using System.Globalization;

namespace Kvorum.Cli;

/// <summary>Parses Go-style durations as etcdctl takes them: <c>500ms</c>, <c>2s</c>, <c>1.5m</c>, <c>1h</c>.</summary>
internal static class DurationParser
{
    /// <summary>Parses <paramref name="text"/>; a bare number is seconds.</summary>
    /// <param name="text">The duration text.</param>
    /// <param name="duration">The positive duration parsed.</param>
    /// <returns>False when the text is not a positive duration.</returns>
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text))
            return false;

        text = text.Trim();
        (var unit, var scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => ("ms", 1.0),
            _ when text.EndsWith('s') => ("s", 1000.0),
            _ when text.EndsWith('m') => ("m", 60_000.0),
            _ when text.EndsWith('h') => ("h", 3_600_000.0),
            _ => ("", 1000.0),
        };
        var number = text[..^unit.Length];
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
            || value <= 0 || double.IsInfinity(value * scale) || value * scale > TimeSpan.MaxValue.TotalMilliseconds / 2)
            return false;

        duration = TimeSpan.FromMilliseconds(value * scale);
        return true;
    }

    /// <summary>Parses a duration flag or throws a <see cref="UsageException"/> naming it.</summary>
    /// <param name="flag">The flag name, e.g. <c>--dial-timeout</c>.</param>
    /// <param name="text">The value given.</param>
    public static TimeSpan ParseFlag(string flag, string text) =>
        TryParse(text, out var duration)
            ? duration
            : throw new UsageException($"{flag} must be a positive duration such as 500ms, 2s or 1m, got \"{text}\"");
}
