namespace Kvorum.Storage;

/// <summary>
/// Writing or flushing the WAL failed (for example the disk is full, or fsync reported an error). The
/// storage refuses all further writes: after a failed fsync the page cache can no longer be trusted, so
/// the process must reopen the data directory, which recovers the durable prefix.
/// </summary>
public sealed class StorageFailedException : IOException
{
    /// <summary>Creates the exception with no details.</summary>
    public StorageFailedException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public StorageFailedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the I/O error that caused it.</summary>
    public StorageFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
