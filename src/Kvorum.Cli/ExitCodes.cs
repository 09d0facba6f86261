namespace Kvorum.Cli;

/// <summary>The process exit codes of <c>kvorum</c>.</summary>
internal static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Ok = 0;

    /// <summary>The server answered with an error, or no endpoint could be reached.</summary>
    public const int Failure = 1;

    /// <summary>A flag, argument or environment variable was wrong; nothing was done.</summary>
    public const int Usage = 2;
}
