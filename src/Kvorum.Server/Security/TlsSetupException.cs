namespace Kvorum.Server.Security;

/// <summary>
/// A TLS file that cannot be used: missing or unreadable, not a certificate, a key that does not match its certificate,
/// an expired certificate. Its message is the one line <c>kvorum serve</c> prints before it exits.
/// </summary>
internal sealed class TlsSetupException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TlsSetupException()
    {
    }

    /// <summary>Creates the exception with its one-line message.</summary>
    /// <param name="message">What is wrong, naming the file.</param>
    public TlsSetupException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its one-line message and cause.</summary>
    /// <param name="message">What is wrong, naming the file.</param>
    /// <param name="inner">The cause.</param>
    public TlsSetupException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
