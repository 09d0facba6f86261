namespace Kvorum.Lab;

/// <summary>
/// A lab command that cannot be carried out: a missing tool, not root, no lab up, a bad node number, a command
/// of <c>ip</c>/<c>nft</c>/<c>tc</c> that failed. The message is one line meant for the user.
/// </summary>
internal sealed class LabException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LabException()
    {
    }

    /// <summary>Creates the exception with its one-line message.</summary>
    /// <param name="message">What went wrong and, where there is one, what to do.</param>
    public LabException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its one-line message and cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="inner">The cause.</param>
    public LabException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
