namespace Kvorum.Cli;

/// <summary>
/// A bad flag, argument or environment value. <see cref="CliApp"/> prints its message as one line,
/// prefixed with the command path, and exits with <see cref="ExitCodes.Usage"/>.
/// </summary>
internal sealed class UsageException : Exception
{
    /// <summary>Creates an exception whose message is the whole line shown to the user (without the command prefix).</summary>
    /// <param name="message">What was wrong, naming the flag.</param>
    public UsageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with no message.</summary>
    public UsageException()
    {
    }

    /// <summary>Creates an exception that wraps the parse failure behind it.</summary>
    /// <param name="message">What was wrong, naming the flag.</param>
    /// <param name="innerException">The failure behind it.</param>
    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
