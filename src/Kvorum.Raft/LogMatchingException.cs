namespace Kvorum.Raft;

/// <summary>
/// Thrown by <see cref="RaftNode.Step"/> when a message carries an entry with the same index and term as one this
/// server holds but other contents. Log Matching (paper §5.3) makes that impossible between correct servers: the
/// message is a forgery or the result of a bug. The core has changed nothing; the host must stop rather than go on,
/// since either entry may be the one the others committed.
/// </summary>
public sealed class LogMatchingException : InvalidOperationException
{
    /// <summary>Creates the exception for the entry held and the one received.</summary>
    public LogMatchingException(Entry held, Entry received)
        : base($"log matching violated: entry {held.Index} of term {held.Term} is held as {Describe(held)} but was received as {Describe(received)}")
    {
        Held = held;
        Received = received;
    }

    /// <summary>Creates the exception with a message of its own.</summary>
    public LogMatchingException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public LogMatchingException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with the default message.</summary>
    public LogMatchingException()
    {
    }

    /// <summary>The entry this server holds.</summary>
    public Entry Held { get; }

    /// <summary>The entry the message carried at the same index and term.</summary>
    public Entry Received { get; }

    private static string Describe(Entry e) =>
        $"{e.Type} of {e.Data.Length} bytes starting {Convert.ToHexString(e.Data.Span[..Math.Min(16, e.Data.Length)])}";
}
