namespace Kvorum.Storage;

/// <summary>
/// The WAL on disk is damaged in a way that recovery must not repair on its own: a bad record before the
/// tail, a gap in indexes, or a missing segment. The message names the file and byte offset.
/// </summary>
public sealed class WalCorruptException : IOException
{
    /// <summary>Creates the exception with no details.</summary>
    public WalCorruptException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public WalCorruptException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public WalCorruptException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a problem at <paramref name="offset"/> of <paramref name="filePath"/>.</summary>
    public WalCorruptException(string filePath, long offset, string problem, Exception? innerException = null)
        : base($"WAL corrupt: {filePath} at byte offset {offset}: {problem}", innerException)
    {
        FilePath = filePath;
        Offset = offset;
    }

    /// <summary>The damaged file, if known.</summary>
    public string? FilePath { get; }

    /// <summary>Byte offset of the damage in <see cref="FilePath"/>, or -1.</summary>
    public long Offset { get; } = -1;
}
