using System.Globalization;

namespace Kvorum.Storage;

/// <summary>
/// Names of segment files: <c>{sequence:x16}-{firstIndex:x16}.wal</c>, both hexadecimal.
/// </summary>
/// <remarks>
/// The sequence number orders the segments; the first index is the index the first entry written to
/// the segment was expected to have (its header's base + 1). Both are also inside the segment header,
/// and recovery checks that name and header agree. A sequence number is needed as well as an index
/// because a conflict truncation can make a later segment start at a lower index than an earlier one.
/// </remarks>
internal static class SegmentName
{
    /// <summary>The file name extension.</summary>
    public const string Extension = ".wal";

    /// <summary>Formats the file name.</summary>
    public static string Format(ulong sequence, ulong firstIndex) =>
        $"{sequence:x16}-{firstIndex:x16}{Extension}";

    /// <summary>Parses a file name made by <see cref="Format"/>.</summary>
    public static bool TryParse(string fileName, out ulong sequence, out ulong firstIndex)
    {
        sequence = firstIndex = 0;
        if (fileName.Length != 33 + Extension.Length || !fileName.EndsWith(Extension, StringComparison.Ordinal) || fileName[16] != '-')
            return false;
        return ulong.TryParse(fileName.AsSpan(0, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out sequence)
            && ulong.TryParse(fileName.AsSpan(17, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out firstIndex);
    }
}
