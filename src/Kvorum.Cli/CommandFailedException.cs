namespace Kvorum.Cli;

/// <summary>
/// A command that ran but failed (server error, unreachable endpoint, busy port). <see cref="CliApp"/> prints
/// its message as one line and exits with <see cref="ExitCodes.Failure"/>.
/// </summary>
internal sealed class CommandFailedException : Exception
{
    /// <summary>Creates an exception whose message is the whole line shown to the user.</summary>
    /// <param name="message">The line, e.g. <c>Error: etcdserver: key is not provided</c>.</param>
    public CommandFailedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with no message.</summary>
    public CommandFailedException()
    {
    }

    /// <summary>Creates an exception that wraps the failure behind it.</summary>
    /// <param name="message">The line shown to the user.</param>
    /// <param name="innerException">The failure behind it.</param>
    public CommandFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
